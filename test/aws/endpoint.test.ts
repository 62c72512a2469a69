/** A client's endpoint: our flag or COATTAIL_*_ENDPOINT → AWS_ENDPOINT_URL_<SERVICE> → AWS_ENDPOINT_URL; S3 path-style with one. */
import { describe, expect, it } from 'vitest';
import { resolveEndpoint, SERVICE_ENDPOINTS, type AwsService } from '../../src/aws/endpoint.js';
import { createS3Client } from '../../src/aws/clients.js';
import { createKinesisClient } from '../../src/aws/kinesis.js';

const OURS = 'http://127.0.0.1:1111';
const SPECIFIC = 'http://127.0.0.1:2222';
const GLOBAL = 'http://127.0.0.1:3333';

/** The SDK's names, from the AWS SDKs and Tools reference ("service-specific endpoints"), written out here. */
const SDK_NAMES: Record<AwsService, string> = {
  kinesis: 'AWS_ENDPOINT_URL_KINESIS',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  s3: 'AWS_ENDPOINT_URL_S3',
  emr: 'AWS_ENDPOINT_URL_EMR_SERVERLESS',
  athena: 'AWS_ENDPOINT_URL_ATHENA',
  sts: 'AWS_ENDPOINT_URL_STS',
};
const OUR_NAMES: Record<AwsService, string> = {
  kinesis: 'COATTAIL_KINESIS_ENDPOINT',
  dynamodb: 'COATTAIL_DYNAMODB_ENDPOINT',
  s3: 'COATTAIL_S3_ENDPOINT',
  emr: 'COATTAIL_EMR_ENDPOINT',
  athena: 'COATTAIL_ATHENA_ENDPOINT',
  sts: 'COATTAIL_STS_ENDPOINT',
};

describe.each(Object.keys(SERVICE_ENDPOINTS) as AwsService[])('%s', (service) => {
  const sdk = SDK_NAMES[service];
  const ours = OUR_NAMES[service];

  it('the flag over every variable', () => {
    const env = { [ours]: OURS, [sdk]: SPECIFIC, AWS_ENDPOINT_URL: GLOBAL };
    expect(resolveEndpoint(service, 'http://10.0.0.1:9', env)).toEqual({ value: 'http://10.0.0.1:9', source: 'flag' });
  });

  it('our variable over the SDK ones', () => {
    const env = { [ours]: OURS, [sdk]: SPECIFIC, AWS_ENDPOINT_URL: GLOBAL };
    expect(resolveEndpoint(service, undefined, env)).toEqual({ value: OURS, source: `env (${ours})` });
  });

  it('the service-specific variable over the global one', () => {
    expect(resolveEndpoint(service, undefined, { [sdk]: SPECIFIC, AWS_ENDPOINT_URL: GLOBAL })).toEqual({
      value: SPECIFIC,
      source: `env (${sdk})`,
    });
  });

  it('the global one alone', () => {
    expect(resolveEndpoint(service, undefined, { AWS_ENDPOINT_URL: GLOBAL })).toEqual({ value: GLOBAL, source: 'env (AWS_ENDPOINT_URL)' });
  });

  it("none: AWS's own", () => {
    expect(resolveEndpoint(service, undefined, {})).toBeUndefined();
  });

  it('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns the SDK variables off, not ours', () => {
    const env = { [sdk]: SPECIFIC, AWS_ENDPOINT_URL: GLOBAL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' };
    expect(resolveEndpoint(service, undefined, env)).toBeUndefined();
    expect(resolveEndpoint(service, undefined, { ...env, [ours]: OURS })?.value).toBe(OURS);
  });
});

describe('the clients use the endpoint resolved', () => {
  it('S3 from AWS_ENDPOINT_URL_S3, path-style, with stand-in credentials on loopback', async () => {
    const client = createS3Client({ region: 'eu-west-1' }, { AWS_ENDPOINT_URL_S3: SPECIFIC, AWS_ENDPOINT_URL: GLOBAL });
    const endpoint = await client.config.endpoint?.();
    expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe(SPECIFIC);
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'local' });
    client.destroy();
  });

  it('Kinesis from AWS_ENDPOINT_URL when nothing more specific is set', async () => {
    const client = createKinesisClient({ region: 'eu-west-1' }, { AWS_ENDPOINT_URL: GLOBAL });
    const endpoint = await client.config.endpoint?.();
    expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe(GLOBAL);
    client.destroy();
  });
});

/** The names coattail uses when neither a flag, a variable nor the config file gives one (the deploy stack's defaults too). */
export const DEFAULT_STREAM = 'coattail-trades';
export const DEFAULT_ALERTS_TABLE = 'coattail-alerts';

"""The EMR Serverless entry point (``jobDriver.sparkSubmit.entryPoint``) of ``coattail jobs submit``.

The package itself travels as ``--py-files`` (``spark.submit.pyFiles``: the content-addressed zip beside this
file on S3), so this only hands the job's arguments to the one entry point every job has locally too.
"""

import sys

from coattail_jobs.__main__ import main

if __name__ == "__main__":
    sys.exit(main())

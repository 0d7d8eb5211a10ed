"""The Lambda behind the cloud API's `POST /predict`: runtime code, packaged alone by the deployer.

Nothing here imports the rest of the project: the zip holds this package only, and the Lambda
Python runtime provides boto3 (see requirements.txt). The handler is `proxy.handler.handler`.
"""

"""The offline stack of `make demo`: the cloud's parts played by local processes on 127.0.0.1.

inference server (the container, unchanged)  <-  gateway (API Gateway + Lambda + SageMaker's
data capture)  <-  web page; and a timer that runs the monitoring container's code hourly.
"""

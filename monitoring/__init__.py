"""The custom SageMaker Model Monitor container: latency and prediction quality from data capture."""

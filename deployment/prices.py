"""AWS list prices for what a stage runs, so `plan` and `deploy` can say what it costs a month.

These are us-east-1 on-demand list prices in USD, written down from AWS's public pricing pages
(SOURCES) as known in 2025, without access to the pages when this file was written (2026-12-02):
list prices to be checked against the pages before you rely on them. Other regions charge
differently (not by one factor): the estimate says so rather than scale these.
Free tiers are not subtracted (they are per account, shared by every stage); notes say where they apply.
"""

from __future__ import annotations

REGION = "us-east-1"
AS_OF = "2025"  # when these prices were current, as far as we know: see the module docstring
WRITTEN = "2026-12-02"
SOURCES = (
    "https://aws.amazon.com/sagemaker/pricing/",
    "https://aws.amazon.com/s3/pricing/",
    "https://aws.amazon.com/lambda/pricing/",
    "https://aws.amazon.com/api-gateway/pricing/",
    "https://aws.amazon.com/cloudfront/pricing/",
    "https://aws.amazon.com/cloudwatch/pricing/",
    "https://aws.amazon.com/sns/pricing/",
    "https://aws.amazon.com/kms/pricing/",
)
SAGEMAKER_PRICING = SOURCES[0]

HOURS_PER_MONTH = 730  # AWS's own convention on its pricing pages (8,760 h / 12)

# SageMaker real-time inference (hosting), USD per instance-hour.
HOSTING_HOURLY_USD = {
    "ml.t2.medium": 0.056,
    "ml.t2.large": 0.111,
    "ml.t2.xlarge": 0.223,
    "ml.t2.2xlarge": 0.445,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.c5.large": 0.102,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.r5.large": 0.151,
    "ml.r5.xlarge": 0.302,
    "ml.r5.2xlarge": 0.605,
    "ml.r5.4xlarge": 1.21,
    "ml.g4dn.xlarge": 0.736,  # g4dn starts at xlarge
    "ml.g4dn.2xlarge": 0.94,
    "ml.g4dn.4xlarge": 1.505,
}

# SageMaker Processing (what a Model Monitor job runs on), USD per instance-hour. Processing offers
# ml.t3 where hosting offers ml.t2, and no ml.c5.large (deployment/instance_types.py).
PROCESSING_HOURLY_USD = {
    "ml.t3.medium": 0.05,
    "ml.t3.large": 0.1,
    "ml.t3.xlarge": 0.2,
    "ml.t3.2xlarge": 0.399,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.r5.large": 0.151,
    "ml.r5.xlarge": 0.302,
    "ml.r5.2xlarge": 0.605,
    "ml.r5.4xlarge": 1.21,
    "ml.g4dn.xlarge": 0.736,
    "ml.g4dn.2xlarge": 0.94,
    "ml.g4dn.4xlarge": 1.505,
}
ML_STORAGE_GB_MONTH_USD = 0.14  # a processing job's volume (volume_size_gb), per GB-month

# SageMaker Serverless Inference: compute per GB-second of configured memory (1 GB = 1024 MB;
# $0.00002 per second at 1024 MB) and per GB of data in and out.
SERVERLESS_GB_SECOND_USD = 0.00002
SERVERLESS_DATA_GB_USD = 0.016

S3_STANDARD_GB_MONTH_USD = 0.023  # the first 50 TB a month
S3_PUT_PER_1000_USD = 0.005

LAMBDA_GB_SECOND_USD = 0.0000166667  # x86
LAMBDA_PER_MILLION_REQUESTS_USD = 0.20
HTTP_API_PER_MILLION_REQUESTS_USD = 1.00  # API Gateway HTTP APIs, the first 300 million a month

# CloudFront's always-free tier: 1 TB out, 10 million requests and 1,000 invalidation paths a month.
CLOUDFRONT_FREE_TIER = "1 TB and 10 million requests a month free"

# CloudWatch: an alarm is billed per metric it watches (metric math: each metric in it); the free
# tier is 10 alarm metrics and 3 dashboards per account.
ALARM_METRIC_MONTH_USD = 0.10
DASHBOARD_MONTH_USD = 3.00
LOGS_INGESTED_GB_USD = 0.50

SNS_EMAIL_PER_100000_USD = 2.00  # the first 1,000 emails a month are free
KMS_KEY_MONTH_USD = 1.00

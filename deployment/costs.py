"""What a deployed stage costs, for `validate`, `plan`, `deploy` and the pull-request comment.

Prices come from `prices.py` (us-east-1 list prices, to be checked). Per-request costs need a
traffic figure, so the estimate assumes one, stated in every summary (TRAFFIC).
"""

from __future__ import annotations

from dataclasses import dataclass

from deployment import prices
from deployment.config import Config

PRICING_PAGE = prices.SAGEMAKER_PRICING

# The traffic the per-request lines assume: a demo's, not a product's. Each request takes about
# 1 s (the endpoint's answer; the API's Lambda waits as long) and carries a 640 px JPEG, the web
# page's size, whose capture record holds it in base64 (4/3 of its size) beside the answer.
REQUESTS_PER_DAY = 1_000
SECONDS_PER_REQUEST = 1.0
PHOTO_KB = 100
ANSWER_KB = 5
OTHER_S3_GB = 0.5  # model artifacts (keep_previous of them), monitoring reports, the web page
TRAFFIC = f"{REQUESTS_PER_DAY:,} requests a day of {SECONDS_PER_REQUEST:g} s"
DAYS_PER_MONTH = prices.HOURS_PER_MONTH / 24
KB_PER_GB = 1024 * 1024
NOT_COUNTED = (
    f"not counted: CloudWatch Logs (${prices.LOGS_INGESTED_GB_USD:.2f}/GB ingested), "
    "data out to the internet, ECR images, batch transform jobs"
)


@dataclass(frozen=True)
class Line:
    """One item of the bill: its monthly dollars (None: not in the price table) and how they were reached."""

    item: str
    usd: float | None
    how: str
    upper_bound: bool = False

    @property
    def amount(self) -> str:
        if self.usd is None:
            return "price unknown"
        return f"{'up to ' if self.upper_bound else ''}{_dollars(self.usd)}"


@dataclass(frozen=True)
class Estimate:
    region: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines if line.usd is not None)

    @property
    def complete(self) -> bool:
        return all(line.usd is not None for line in self.lines)

    def summary(self) -> str:
        """One line: the total, what it rests on, and each item."""
        elsewhere = "" if self.region == prices.REGION else f"; {self.region}'s differ"
        return (
            f"{'about' if self.complete else 'at least'} {_dollars(self.total)}/month "
            f"({prices.REGION} list prices of {prices.AS_OF}{elsewhere}; at {TRAFFIC}): "
            + ", ".join(f"{line.item} {line.amount}" for line in self.lines)
        )

    def details(self) -> list[str]:
        """The summary's items one a line, each with its arithmetic."""
        width = max(len(line.item) for line in self.lines)
        return [f"  {line.item:<{width}}  {line.amount:>16}  {line.how}" for line in self.lines] + [
            f"  {NOT_COUNTED}"
        ]


def monthly_cost(config: Config) -> Estimate:
    lines = [_endpoint(config)]
    if config.monitoring.enabled:
        lines.append(_monitoring(config))
    lines.append(_storage(config))
    if config.api.enabled:
        lines.append(_api(config))
    if config.webapp.enabled:
        lines.append(Line("web page", 0.0, f"CloudFront's always-free tier: {prices.CLOUDFRONT_FREE_TIER}"))
    if config.batch.drop_folder.enabled:
        lines.append(_drop_folder())
    lines += _cloudwatch(config)
    if config.alerts.emails:
        lines.append(
            Line(
                "alerts key",
                prices.KMS_KEY_MONTH_USD,
                "the alerts topic's KMS key; SNS email: 1,000 a month free, "
                f"then {_price(prices.SNS_EMAIL_PER_100000_USD)} per 100,000",
            )
        )
    return Estimate(config.project.region, tuple(lines))


def requests_per_month() -> float:
    return REQUESTS_PER_DAY * DAYS_PER_MONTH


def runs_per_month(schedule: str) -> float:
    """Monitoring runs a month of a schedule config.py accepts: cron(0 H ? * * *), H an hour, */N or *."""
    hours = schedule.split()[1]
    if hours == "*":
        per_day = 24
    elif hours.startswith("*/"):
        per_day = len(range(0, 24, int(hours.removeprefix("*/"))))
    else:
        per_day = 1
    return per_day * DAYS_PER_MONTH


def _endpoint(config: Config) -> Line:
    endpoint = config.endpoint
    if endpoint.serverless:
        return _serverless(endpoint.serverless.memory_mb, endpoint.serverless.max_concurrency)
    scaling = config.autoscaling
    count = scaling.min_instances if scaling.enabled else endpoint.instance_count
    price = prices.HOSTING_HOURLY_USD.get(endpoint.instance_type)
    if price is None:
        return Line(
            "endpoint", None, f"{count} x {endpoint.instance_type}: price unknown: see {PRICING_PAGE}"
        )
    how = f"{count} x {endpoint.instance_type} x {prices.HOURS_PER_MONTH} h x {_price(price)}"
    if scaling.enabled:
        most = scaling.max_instances * prices.HOURS_PER_MONTH * price
        how += f" (autoscaling: {_dollars(most)} at {scaling.max_instances} instances)"
    return Line("endpoint", count * prices.HOURS_PER_MONTH * price, how)


def _serverless(memory_mb: int, max_concurrency: int) -> Line:
    gb = memory_mb / 1024
    requests = requests_per_month()
    compute = requests * SECONDS_PER_REQUEST * gb * prices.SERVERLESS_GB_SECOND_USD
    data = requests * (PHOTO_KB + ANSWER_KB) / KB_PER_GB * prices.SERVERLESS_DATA_GB_USD
    busy = max_concurrency * gb * prices.HOURS_PER_MONTH * 3600 * prices.SERVERLESS_GB_SECOND_USD
    return Line(
        "endpoint",
        compute + data,
        f"serverless, {memory_mb} MB: {requests:,.0f} requests x {SECONDS_PER_REQUEST:g} s "
        f"x {_price(prices.SERVERLESS_GB_SECOND_USD)}/GB-s, plus {_price(prices.SERVERLESS_DATA_GB_USD)}/GB in and out; "
        f"nothing while idle; {_dollars(busy)} if all {max_concurrency} concurrent requests ran all month",
    )


def _monitoring(config: Config) -> Line:
    monitoring = config.monitoring
    runs = runs_per_month(monitoring.schedule)
    hours = monitoring.max_runtime_seconds / 3600
    price = prices.PROCESSING_HOURLY_USD.get(monitoring.instance_type)
    if price is None:
        return Line(
            "monitoring",
            None,
            f"{runs:.4g} runs on {monitoring.instance_type}: price unknown: see {PRICING_PAGE}",
        )
    volume = monitoring.volume_size_gb * prices.ML_STORAGE_GB_MONTH_USD / prices.HOURS_PER_MONTH
    return Line(
        "monitoring",
        runs * hours * (price + volume),
        f"{runs:.4g} runs x {hours:g} h (max_runtime_seconds) x ({_price(price)} {monitoring.instance_type} "
        f"+ {monitoring.volume_size_gb} GB volume at {_price(prices.ML_STORAGE_GB_MONTH_USD)}/GB-month): "
        "an upper bound, a run usually takes minutes",
        upper_bound=True,
    )


def _storage(config: Config) -> Line:
    capture = config.data_capture
    captured_kb = (PHOTO_KB * 4 / 3 if capture.capture_input else 0) + (
        ANSWER_KB if capture.capture_output else 0
    )
    captured_gb = (
        REQUESTS_PER_DAY * capture.sampling_percent / 100 * captured_kb * capture.retention_days / KB_PER_GB
        if capture.enabled
        else 0.0
    )
    gb = captured_gb + OTHER_S3_GB
    how = f"{gb:.2f} GB x {_price(prices.S3_STANDARD_GB_MONTH_USD)}/GB-month: "
    if capture.enabled:
        how += (
            f"{capture.retention_days} days of captures ({captured_kb:.0f} KB each, "
            f"{capture.sampling_percent}% of requests), "
        )
    return Line("S3", gb * prices.S3_STANDARD_GB_MONTH_USD, how + f"{OTHER_S3_GB:g} GB of models and reports")


def _api(config: Config) -> Line:
    from deployment.api_state import FUNCTION_MEMORY_MB

    per_request = _lambda_request(FUNCTION_MEMORY_MB) + prices.HTTP_API_PER_MILLION_REQUESTS_USD / 1e6
    requests = requests_per_month()
    return Line(
        "API and Lambda",
        requests * per_request,
        f"{requests:,.0f} requests x ({_price(prices.HTTP_API_PER_MILLION_REQUESTS_USD)}/million for the API "
        f"+ a {FUNCTION_MEMORY_MB} MB Lambda for {SECONDS_PER_REQUEST:g} s)",
    )


def _drop_folder() -> Line:
    from deployment.resources.drop_folder import MEMORY_MB

    return Line(
        "drop folder",
        0.0,
        f"nothing while idle; {_dollars(1000 * _lambda_request(MEMORY_MB))} per 1,000 photos "
        f"(a {MEMORY_MB} MB Lambda for {SECONDS_PER_REQUEST:g} s each)",
    )


def _lambda_request(memory_mb: int) -> float:
    compute = memory_mb / 1024 * SECONDS_PER_REQUEST * prices.LAMBDA_GB_SECOND_USD
    return compute + prices.LAMBDA_PER_MILLION_REQUESTS_USD / 1e6


def _cloudwatch(config: Config) -> list[Line]:
    from deployment.naming import Names
    from deployment.resources.alert import alerts

    # Names only shape the alarms' ARNs, not how many there are: any account will do.
    found = alerts(config, Names(config.prefix, "000000000000", config.project.region))
    rollback = 2  # resources/alarm.py: 5XX errors and model latency, one metric each
    metrics = rollback + sum(len(alert.metrics) for alert in found)
    return [
        Line(
            "alarms",
            metrics * prices.ALARM_METRIC_MONTH_USD,
            f"{rollback + len(found)} alarms watching {metrics} metrics x {_price(prices.ALARM_METRIC_MONTH_USD)} "
            "(an account's first 10 are free)",
        ),
        Line("dashboard", prices.DASHBOARD_MONTH_USD, "one dashboard (an account's first 3 are free)"),
    ]


def _price(usd: float) -> str:
    """A unit price as written on AWS's pages: $0.10, $0.115, $0.00002 (not $2e-05)."""
    whole, cents = f"{usd:.10f}".rstrip("0").split(".")
    return f"${whole}.{cents:0<2}"


def _dollars(usd: float) -> str:
    return f"${usd:,.2f}" if usd == 0 or usd >= 0.005 else "under $0.01"


def hourly_cost(config: Config) -> str:
    """One line: what the endpoint bills per hour, and what else runs on a schedule."""
    endpoint = config.endpoint
    price = prices.HOSTING_HOURLY_USD.get(endpoint.instance_type)
    if endpoint.serverless:
        cost = "a serverless endpoint: billed per request, nothing while idle"
    elif price is not None:
        cost = (
            f"about ${price * endpoint.instance_count:.3f}/hour ({endpoint.instance_count} x "
            f"{endpoint.instance_type}, on-demand in us-east-1)"
        )
    else:
        cost = f"{endpoint.instance_count} x {endpoint.instance_type} per hour: see {PRICING_PAGE}"
    if config.monitoring.enabled:
        cost += f", plus a monitoring job on {config.monitoring.instance_type} for a few minutes each run"
    return cost

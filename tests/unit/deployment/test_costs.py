"""The monthly estimate: each line's dollars from the price table, and what it says when a price is missing."""

from __future__ import annotations

import pytest

from deployment import prices
from deployment.config import load_config, parse_config
from deployment.costs import (
    DAYS_PER_MONTH,
    KB_PER_GB,
    OTHER_S3_GB,
    PHOTO_KB,
    REQUESTS_PER_DAY,
    monthly_cost,
    runs_per_month,
)
from deployment.instance_types import HOSTING_INSTANCE_TYPES, PROCESSING_INSTANCE_TYPES
from tests.conftest import REPO

HOURS = prices.HOURS_PER_MONTH
REQUESTS = REQUESTS_PER_DAY * DAYS_PER_MONTH
PRICING = "https://aws.amazon.com/sagemaker/pricing/"


def amounts(document: dict) -> dict[str, float | None]:
    estimate = monthly_cost(parse_config(document))
    return {line.item: line.usd for line in estimate.lines}


def monitoring_usd(
    runs: float, hours: float, instance_type: str = "ml.m5.large", volume_gb: int = 20
) -> float:
    volume = volume_gb * prices.ML_STORAGE_GB_MONTH_USD / HOURS
    return runs * hours * (prices.PROCESSING_HOURLY_USD[instance_type] + volume)


def test_the_shipped_config_costs_its_instances_monitoring_storage_api_alarms_and_dashboard():
    estimate = monthly_cost(load_config(REPO / "config.yml"))

    lambda_request = 0.25 * prices.LAMBDA_GB_SECOND_USD + prices.LAMBDA_PER_MILLION_REQUESTS_USD / 1e6
    captured_gb = REQUESTS_PER_DAY * (PHOTO_KB * 4 / 3 + 5) * 30 / KB_PER_GB  # 30 days kept
    expected = {
        "endpoint": 1 * HOURS * prices.HOSTING_HOURLY_USD["ml.m5.large"],
        "monitoring": monitoring_usd(HOURS, 0.5),  # hourly, 1800 s at most each
        "S3": (captured_gb + OTHER_S3_GB) * prices.S3_STANDARD_GB_MONTH_USD,
        "API and Lambda": REQUESTS * (prices.HTTP_API_PER_MILLION_REQUESTS_USD / 1e6 + lambda_request),
        "web page": 0.0,
        "alarms": 6 * prices.ALARM_METRIC_MONTH_USD,  # 2 rollback + 5XX, latency, violations (2 metrics)
        "dashboard": prices.DASHBOARD_MONTH_USD,
    }
    assert {line.item: line.usd for line in estimate.lines} == pytest.approx(expected)
    assert estimate.complete and estimate.total == pytest.approx(sum(expected.values()))
    # Two literal sanity values: $0.115 x 730 h, and the whole at today's table.
    assert estimate.lines[0].usd == pytest.approx(83.95)
    assert estimate.summary().startswith(
        "about $131.19/month (us-east-1 list prices of 2025; at 1,000 requests a day of 1 s): "
        "endpoint $83.95, monitoring up to $43.38, S3 $0.10,"
    )
    assert estimate.lines[1].upper_bound and "an upper bound" in estimate.lines[1].how


@pytest.mark.parametrize(
    ("schedule", "runs_a_day"),
    [
        ("hourly", 24),
        ("cron(0 * ? * * *)", 24),
        ("daily", 1),
        ("cron(0 7 ? * * *)", 1),
        ("cron(0 */6 ? * * *)", 4),  # 0, 6, 12, 18
        ("cron(0 */5 ? * * *)", 5),  # 0, 5, 10, 15, 20
        ("cron(0 */24 ? * * *)", 1),
    ],
)
def test_monitoring_runs_as_often_as_its_schedule_for_at_most_its_max_runtime(schedule, runs_a_day):
    config = parse_config({"monitoring": {"schedule": schedule, "max_runtime_seconds": 900}})

    assert runs_per_month(config.monitoring.schedule) == pytest.approx(runs_a_day * HOURS / 24)
    assert amounts({"monitoring": {"schedule": schedule, "max_runtime_seconds": 900}})[
        "monitoring"
    ] == pytest.approx(monitoring_usd(runs_a_day * HOURS / 24, 0.25))


def test_a_daily_job_on_a_bigger_instance_with_a_bigger_volume():
    document = {
        "monitoring": {
            "schedule": "daily",
            "instance_type": "ml.c5.xlarge",
            "max_runtime_seconds": 7200,
            "volume_size_gb": 100,
        }
    }
    assert amounts(document)["monitoring"] == pytest.approx(
        monitoring_usd(HOURS / 24, 2, "ml.c5.xlarge", volume_gb=100)
    )


SERVERLESS = {
    "endpoint": {"serverless": {"memory_mb": 3072, "max_concurrency": 10}},
    "data_capture": {"enabled": False},
    "monitoring": {"enabled": False},
}


def test_serverless_costs_its_requests_at_its_memory_and_says_what_full_concurrency_would():
    estimate = monthly_cost(parse_config(SERVERLESS))
    endpoint = estimate.lines[0]

    compute = REQUESTS * 1.0 * 3 * prices.SERVERLESS_GB_SECOND_USD  # 3072 MB = 3 GB, 1 s each
    data = REQUESTS * 105 / KB_PER_GB * prices.SERVERLESS_DATA_GB_USD  # a 100 KB photo in, 5 KB out
    assert endpoint.usd == pytest.approx(compute + data)
    busy = 10 * 3 * HOURS * 3600 * prices.SERVERLESS_GB_SECOND_USD
    assert f"${busy:,.2f} if all 10 concurrent requests ran all month" in endpoint.how
    assert "nothing while idle" in endpoint.how and "$0.00002/GB-s" in endpoint.how
    # No monitoring line, and S3 holds only the models and reports.
    assert [line.item for line in estimate.lines][:3] == ["endpoint", "S3", "API and Lambda"]
    assert estimate.lines[1].usd == pytest.approx(OTHER_S3_GB * prices.S3_STANDARD_GB_MONTH_USD)


def test_an_instance_type_missing_from_the_table_says_so_and_the_total_is_a_floor():
    estimate = monthly_cost(parse_config({"endpoint": {"instance_type": "ml.c6i.large"}}))

    endpoint = estimate.lines[0]
    assert (endpoint.usd, endpoint.amount) == (None, "price unknown")
    assert endpoint.how == f"1 x ml.c6i.large: price unknown: see {PRICING}"
    assert not estimate.complete
    assert estimate.summary().startswith(f"at least ${estimate.total:,.2f}/month (")
    assert "endpoint price unknown, monitoring up to $" in estimate.summary()
    known = amounts({})
    assert estimate.total == pytest.approx(sum(known.values()) - known["endpoint"])


def test_a_processing_type_missing_from_the_table_leaves_monitoring_unknown():
    estimate = monthly_cost(parse_config({"monitoring": {"instance_type": "ml.m6i.large"}}))

    monitoring = estimate.lines[1]
    assert (monitoring.item, monitoring.usd) == ("monitoring", None)
    assert monitoring.how.endswith(f"price unknown: see {PRICING}")
    assert estimate.summary().startswith("at least ")


def test_alerts_add_their_alarms_metrics_and_with_emails_the_topic_key():
    document = {
        "monitoring": {"max_memory_percent": 80, "max_cpu_percent_per_core": 90, "max_error_percent": 5},
        "alerts": {"emails": ["oncall@example.com"]},
    }
    estimate = monthly_cost(parse_config(document))
    lines = {line.item: line for line in estimate.lines}

    # 2 rollback alarms, then 5XX, latency, violations (2 metrics), memory, cpu, error rate (2 metrics).
    assert lines["alarms"].usd == pytest.approx(10 * prices.ALARM_METRIC_MONTH_USD)
    assert lines["alarms"].how.startswith("8 alarms watching 10 metrics x $0.10 ")
    assert lines["alerts key"].usd == prices.KMS_KEY_MONTH_USD
    assert "alerts key" not in amounts({})  # no emails, no topic, no key


def test_autoscaling_counts_its_minimum_and_shows_its_maximum():
    endpoint = monthly_cost(
        parse_config({"autoscaling": {"enabled": True, "min_instances": 2, "max_instances": 5}})
    ).lines[0]
    price = prices.HOSTING_HOURLY_USD["ml.m5.large"]

    assert endpoint.usd == pytest.approx(2 * HOURS * price)
    assert endpoint.how.endswith(f"(autoscaling: ${5 * HOURS * price:,.2f} at 5 instances)")


def test_other_regions_are_told_the_prices_are_us_east_1s():
    estimate = monthly_cost(parse_config({"project": {"region": "eu-west-1"}}))

    assert "(us-east-1 list prices of 2025; eu-west-1's differ; " in estimate.summary()


def test_disabled_parts_cost_nothing_and_the_drop_folder_only_per_photo():
    document = {
        "api": {"enabled": False},
        "webapp": {"enabled": False},
        "batch": {"drop_folder": {"enabled": True}},
    }
    lines = {line.item: line for line in monthly_cost(parse_config(document)).lines}

    assert "API and Lambda" not in lines and "web page" not in lines
    assert lines["drop folder"].usd == 0.0 and "per 1,000 photos" in lines["drop folder"].how


def test_the_details_give_every_line_its_arithmetic_and_what_is_not_counted():
    estimate = monthly_cost(load_config(REPO / "config.yml"))
    details = estimate.details()

    assert details[0].split() == [
        "endpoint",
        "$83.95",
        "1",
        "x",
        "ml.m5.large",
        "x",
        "730",
        "h",
        "x",
        "$0.115",
    ]
    assert len(details) == len(estimate.lines) + 1 and details[-1].startswith("  not counted: ")


@pytest.mark.parametrize("family", ["t2", "t3", "m5", "c5", "r5", "g4dn"])
def test_the_table_prices_each_common_hosting_type_and_names_only_real_ones(family):
    for size in ("medium", "large", "xlarge", "2xlarge", "4xlarge"):
        instance_type = f"ml.{family}.{size}"
        if instance_type in HOSTING_INSTANCE_TYPES and size != "medium":
            assert prices.HOSTING_HOURLY_USD[instance_type] > 0, instance_type
        if instance_type in PROCESSING_INSTANCE_TYPES and size != "medium":
            assert prices.PROCESSING_HOURLY_USD[instance_type] > 0, instance_type
    assert set(prices.HOSTING_HOURLY_USD) <= HOSTING_INSTANCE_TYPES
    assert set(prices.PROCESSING_HOURLY_USD) <= PROCESSING_INSTANCE_TYPES

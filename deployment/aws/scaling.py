"""Application Auto Scaling: target tracking on invocations per instance."""

from __future__ import annotations

from deployment.resources.autoscaling import Autoscaling

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
POLICY_NAME = "invocations-per-instance"


class Scaling:
    def __init__(self, client) -> None:
        self.client = client

    def read(self, endpoint_name: str, variant_name: str) -> Autoscaling | None:
        wanted = Autoscaling(endpoint_name, variant_name, 0, 0, 0)
        targets = self.client.describe_scalable_targets(
            ServiceNamespace=NAMESPACE, ResourceIds=[wanted.resource_id], ScalableDimension=DIMENSION
        )["ScalableTargets"]
        if not targets:
            return None
        policies = self.client.describe_scaling_policies(
            ServiceNamespace=NAMESPACE, ResourceId=wanted.resource_id, ScalableDimension=DIMENSION
        )["ScalingPolicies"]
        target_value = next(
            (
                policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
                for policy in policies
                if policy["PolicyName"] == POLICY_NAME
            ),
            0,
        )
        return Autoscaling(
            endpoint_name,
            variant_name,
            targets[0]["MinCapacity"],
            targets[0]["MaxCapacity"],
            int(target_value),
        )

    def put(self, scaling: Autoscaling, tags: tuple[tuple[str, str], ...] = ()) -> None:
        """Register (or update) the target, tagged: the deploy role may only change targets that
        carry this deployment's tag, as a target's ARN does not name the endpoint."""
        request = {
            "ServiceNamespace": NAMESPACE,
            "ResourceId": scaling.resource_id,
            "ScalableDimension": DIMENSION,
            "MinCapacity": scaling.min_instances,
            "MaxCapacity": scaling.max_instances,
        }
        if tags:
            request["Tags"] = dict(tags)
        self.client.register_scalable_target(**request)
        self.client.put_scaling_policy(
            PolicyName=POLICY_NAME,
            ServiceNamespace=NAMESPACE,
            ResourceId=scaling.resource_id,
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(scaling.target_invocations_per_instance),
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )

    def delete(self, scaling: Autoscaling) -> None:
        self.client.deregister_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=scaling.resource_id, ScalableDimension=DIMENSION
        )

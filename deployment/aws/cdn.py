"""CloudFront: the web page's distribution (HTTPS in front of the private bucket) and its access control.

Distributions have no name. Ours is the one with our comment and this deployment's tag; its
CallerReference, derived from the stage, is the last resort when a create finds it already exists.
Every change names the version it replaces (IfMatch: the ETag read just before).
"""

from __future__ import annotations

from dataclasses import replace

from botocore.exceptions import ClientError

from deployment.aws.errors import error_code, tag_list
from deployment.errors import DeploymentError
from deployment.naming import PROJECT_TAG
from deployment.resources.access_control import AccessControl
from deployment.resources.distribution import ORIGIN_ID, Distribution

Tags = tuple[tuple[str, str], ...]
GENERATIONS = 20  # CallerReferences tried, in case CloudFront still remembers a deleted distribution's


class Cdn:
    def __init__(self, client) -> None:
        self.client = client

    def find_access_control(self, name: str) -> AccessControl | None:
        for page in self.client.get_paginator("list_origin_access_controls").paginate():
            for item in page["OriginAccessControlList"].get("Items", []):
                if item["Name"] == name:
                    return AccessControl(
                        name,
                        item.get("Description", ""),
                        item["SigningProtocol"],
                        item["SigningBehavior"],
                        item["OriginAccessControlOriginType"],
                        item["Id"],
                    )
        return None

    def create_access_control(self, control: AccessControl) -> str:
        try:
            created = self.client.create_origin_access_control(OriginAccessControlConfig=_control(control))
        except ClientError as error:
            found = self.find_access_control(control.name)
            if error_code(error) != "OriginAccessControlAlreadyExists" or found is None:
                raise
            self.update_access_control(replace(control, control_id=found.control_id))  # made by a lost run
            return found.control_id
        return created["OriginAccessControl"]["Id"]

    def update_access_control(self, control: AccessControl) -> None:
        etag = self.client.get_origin_access_control(Id=control.control_id)["ETag"]
        self.client.update_origin_access_control(
            Id=control.control_id, IfMatch=etag, OriginAccessControlConfig=_control(control)
        )

    def delete_access_control(self, control_id: str) -> None:
        etag = self.client.get_origin_access_control(Id=control_id)["ETag"]
        self.client.delete_origin_access_control(Id=control_id, IfMatch=etag)

    def find(self, comment: str, deployment: str) -> tuple[Distribution, Tags] | None:
        """Ours, and its tags: the comment narrows the list, the project tag decides."""
        for summary in self._summaries():
            if summary["Comment"] != comment:
                continue
            tags = self.tags(summary["ARN"])
            if dict(tags).get(PROJECT_TAG) == deployment:
                found = self.read(summary["Id"])
                if found:
                    return found, tags
        return None

    def read(self, distribution_id: str) -> Distribution | None:
        try:
            found = self.client.get_distribution(Id=distribution_id)
        except ClientError as error:
            if error_code(error) == "NoSuchDistribution":
                return None
            raise
        return _distribution(found["Distribution"], found["ETag"])

    def tags(self, arn: str) -> Tags:
        items = self.client.list_tags_for_resource(Resource=arn)["Tags"].get("Items", [])
        return tuple(sorted((tag["Key"], tag.get("Value", "")) for tag in items))

    def create(self, distribution: Distribution, tags: Tags) -> Distribution:
        """Created with its tags in one call. If a lost run already created it (same reference), that
        one is adopted; if the reference is taken by nothing that exists, the next one is tried."""
        first = distribution.reference
        for reference in [first, *(f"{first}-{generation}" for generation in range(2, GENERATIONS + 1))]:
            config = {"CallerReference": reference, **_managed(distribution, others=[])}
            try:
                created = self.client.create_distribution_with_tags(
                    DistributionConfigWithTags={
                        "DistributionConfig": config,
                        "Tags": {"Items": tag_list(tags)},
                    }
                )
                return _distribution(created["Distribution"], created["ETag"])
            except ClientError as error:
                if error_code(error) != "DistributionAlreadyExists":
                    raise
            if existing := self._with_reference(reference):
                self.set_tags(existing.arn, tags)
                return self.update(replace(distribution, distribution_id=existing.distribution_id))
        raise DeploymentError(
            f"CloudFront refuses every CallerReference from {first} to {reference}",
            where=f"distribution {first}",
            hint="delete the distributions made with them, or change project.stage",
        )

    def update(self, distribution: Distribution) -> Distribution:
        """Our settings on the current configuration; origins and behaviours added by hand are kept."""
        current = self.client.get_distribution_config(Id=distribution.distribution_id)
        config = current["DistributionConfig"]
        others = [item for item in config["Origins"].get("Items", []) if item["Id"] != ORIGIN_ID]
        updated = self.client.update_distribution(
            Id=distribution.distribution_id,
            IfMatch=current["ETag"],
            DistributionConfig={**config, **_managed(distribution, others)},
        )
        return _distribution(updated["Distribution"], updated["ETag"])

    def disable(self, distribution_id: str) -> Distribution:
        """The first step of a delete: CloudFront deletes only a disabled, deployed distribution."""
        current = self.client.get_distribution_config(Id=distribution_id)
        updated = self.client.update_distribution(
            Id=distribution_id,
            IfMatch=current["ETag"],
            DistributionConfig={**current["DistributionConfig"], "Enabled": False},
        )
        return _distribution(updated["Distribution"], updated["ETag"])

    def delete(self, distribution: Distribution) -> None:
        self.client.delete_distribution(Id=distribution.distribution_id, IfMatch=distribution.etag)

    def set_tags(self, arn: str, tags: Tags) -> None:
        """Exactly these tags: the engine's tag set is the distribution's."""
        extra = sorted(key for key, _ in self.tags(arn) if key not in dict(tags))
        if extra:
            self.client.untag_resource(Resource=arn, TagKeys={"Items": extra})
        self.client.tag_resource(Resource=arn, Tags={"Items": tag_list(tags)})

    def invalidate(self, distribution_id: str, paths: tuple[str, ...], reference: str) -> str:
        created = self.client.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                "CallerReference": reference,
            },
        )
        return created["Invalidation"]["Id"]

    def invalidation_status(self, distribution_id: str, invalidation_id: str) -> str:
        found = self.client.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)
        status = found["Invalidation"]["Status"]  # InProgress | Completed
        return "Completed" if status.lower() == "completed" else status  # moto spells it COMPLETED

    def _summaries(self):
        for page in self.client.get_paginator("list_distributions").paginate():
            yield from page["DistributionList"].get("Items", [])

    def _with_reference(self, reference: str) -> Distribution | None:
        """Only when a create collides: each distribution's configuration must be read."""
        for summary in self._summaries():
            config = self.client.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
            if config["CallerReference"] == reference:
                return self.read(summary["Id"])
        return None


def _control(control: AccessControl) -> dict:
    return {
        "Name": control.name,
        "Description": control.description,
        "SigningProtocol": control.signing_protocol,
        "SigningBehavior": control.signing_behavior,
        "OriginAccessControlOriginType": control.origin_type,
    }


def _managed(distribution: Distribution, others: list[dict]) -> dict:
    """Every part of a distribution's configuration the engine decides."""
    origin = {
        "Id": ORIGIN_ID,
        "DomainName": distribution.origin_domain,
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},  # no legacy identity: the access control signs
        "OriginAccessControlId": distribution.access_control_id,
    }
    methods = {"Quantity": len(distribution.allowed_methods), "Items": list(distribution.allowed_methods)}
    return {
        "Comment": distribution.comment,
        "Enabled": distribution.enabled,
        "DefaultRootObject": distribution.default_root_object,
        "Origins": {"Quantity": 1 + len(others), "Items": [origin, *others]},
        "DefaultCacheBehavior": {
            "TargetOriginId": ORIGIN_ID,
            "ViewerProtocolPolicy": distribution.viewer_protocol_policy,
            "AllowedMethods": {**methods, "CachedMethods": methods},
            "Compress": distribution.compress,
            "CachePolicyId": distribution.cache_policy_id,
            "ResponseHeadersPolicyId": distribution.response_headers_policy_id,
        },
        "PriceClass": distribution.price_class,
        "HttpVersion": distribution.http_version,
        "IsIPV6Enabled": distribution.ipv6,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": distribution.default_certificate},
    }


def _distribution(found: dict, etag: str) -> Distribution:
    """GetDistribution's answer in the desired-state shape; the origin is the default behaviour's."""
    config = found["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    origins = {item["Id"]: item for item in config["Origins"].get("Items", [])}
    origin = origins.get(behavior["TargetOriginId"], {})
    return Distribution(
        comment=config["Comment"],
        origin_domain=origin.get("DomainName", ""),
        access_control_id=origin.get("OriginAccessControlId", ""),
        default_root_object=config.get("DefaultRootObject", ""),
        viewer_protocol_policy=behavior["ViewerProtocolPolicy"],
        allowed_methods=tuple(behavior.get("AllowedMethods", {}).get("Items", [])),
        cache_policy_id=behavior.get("CachePolicyId", ""),
        response_headers_policy_id=behavior.get("ResponseHeadersPolicyId", ""),
        compress=behavior.get("Compress", False),
        price_class=config.get("PriceClass", ""),
        http_version=config.get("HttpVersion", ""),
        ipv6=config.get("IsIPV6Enabled", False),
        default_certificate=config.get("ViewerCertificate", {}).get("CloudFrontDefaultCertificate", False),
        enabled=config["Enabled"],
        reference=config["CallerReference"],
        distribution_id=found["Id"],
        arn=found["ARN"],
        domain_name=found["DomainName"],
        status=found["Status"],
        etag=etag,
    )

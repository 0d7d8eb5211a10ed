"""EventBridge: the rule on the model registry's approvals, its one target, and its tags."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found, tag_list
from deployment.resources.approval import Rule


class Events:
    def __init__(self, client) -> None:
        self.client = client

    def read_rule(self, name: str) -> Rule | None:
        """The rule as it is (pattern, state, target, tags), or None."""
        try:
            found = self.client.describe_rule(Name=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        targets = self.client.list_targets_by_rule(Rule=name)["Targets"]
        tags = self.client.list_tags_for_resource(ResourceARN=found["Arn"])["Tags"]
        return Rule(
            name=name,
            pattern=json.dumps(json.loads(found.get("EventPattern", "{}")), sort_keys=True),
            description=found.get("Description", ""),
            enabled=found.get("State") == "ENABLED",
            targets=tuple(sorted((target["Id"], target["Arn"]) for target in targets)),
            tags=tuple(sorted((tag["Key"], tag["Value"]) for tag in tags)),
            arn=found["Arn"],
        )

    def put_rule(self, rule: Rule) -> str:
        """Creates or updates it in place (PutRule is both); tags are only taken on creation."""
        created = self.client.put_rule(
            Name=rule.name,
            EventPattern=rule.pattern,
            State="ENABLED" if rule.enabled else "DISABLED",
            Description=rule.description,
            Tags=tag_list(rule.tags),
        )
        return created["RuleArn"]

    def tag_rule(self, arn: str, tags: tuple[tuple[str, str], ...], remove: tuple[str, ...]) -> None:
        if tags:
            self.client.tag_resource(ResourceARN=arn, Tags=tag_list(tags))
        if remove:
            self.client.untag_resource(ResourceARN=arn, TagKeys=list(remove))

    def put_targets(self, rule: Rule) -> None:
        self.client.put_targets(
            Rule=rule.name, Targets=[{"Id": id_, "Arn": arn} for id_, arn in rule.targets]
        )

    def remove_targets(self, name: str, target_ids: tuple[str, ...]) -> None:
        if target_ids:
            self.client.remove_targets(Rule=name, Ids=list(target_ids))

    def delete_rule(self, name: str) -> None:
        """Its targets first: EventBridge refuses to delete a rule that still has any."""
        targets = self.client.list_targets_by_rule(Rule=name)["Targets"]
        self.remove_targets(name, tuple(target["Id"] for target in targets))
        self.client.delete_rule(Name=name)

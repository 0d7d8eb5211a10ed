"""How the executor carries out the web page's actions: the private bucket, CloudFront, the files.

CloudFront takes minutes to deploy a new or changed distribution, and deletes only one that is
disabled and deployed; each wait prints a line per poll. Ids CloudFront assigns in this run (the
access control's, the distribution's id, ARN and origin) go to `assigned` for the actions after.
"""

from __future__ import annotations

from dataclasses import replace

from botocore.exceptions import ClientError

from deployment import website
from deployment.actions import Action
from deployment.api_state import Cors
from deployment.aws.errors import error_code
from deployment.errors import DeploymentError
from deployment.policies import canonical
from deployment.web_state import BucketPolicy, Distribution, Invalidation, WebPage, bucket_policy

WEB_KINDS = frozenset(
    {
        "web-bucket",
        "web-bucket-policy",
        "web-oac",
        "web-distribution",
        "web-distribution-tags",
        "web-file",
        "web-page",
        "web-invalidation",
    }
)


class WebSteps:
    """Mixed into the Executor, whose aws, tags, clock, waits, report, assigned and _pause these use."""

    assigned: dict[str, str]

    def apply_web(self, action: Action) -> None:
        """A flat table, like the Executor's: every AWS call spelled out."""
        aws, target = self.aws, action.target
        match action.kind, action.verb:
            case "web-bucket", "create":
                aws.website.create_bucket(target, self.tags)
            case "web-bucket", "update":
                aws.website.configure_bucket(target)
            case "web-bucket", "delete":
                aws.storage.delete_bucket(action.name)
            case "web-bucket-policy", "create" | "update":
                aws.website.put_policy(self._policy(target))
            case "web-oac", "create":
                self.assigned["access_control_id"] = aws.cdn.create_access_control(target)
            case "web-oac", "update":
                aws.cdn.update_access_control(target)
            case "web-oac", "delete":
                self._delete_access_control(target.control_id)
            case "web-distribution", "create":
                self._wait_deployed(aws.cdn.create(self._signed(target), self.tags))
            case "web-distribution", "update":
                self._wait_deployed(aws.cdn.update(self._signed(target)))
            case "web-distribution", "delete":
                self._delete_distribution(target)
            case "web-distribution-tags", "update":
                aws.cdn.set_tags(target.arn, target.tags)
            case "web-file", "create" | "update":
                aws.website.put_file(target)
            case "web-file", "delete":
                aws.website.delete_object(target.bucket, target.key)
            case "web-page", "create" | "update":
                self._publish_page(target)
            case "web-invalidation", "create":
                self._invalidate(target)
            case _:
                raise DeploymentError(f"no way to {action.verb} a {action.kind}", where=action.name)

    def with_page_origin(self, cors: Cors | None) -> Cors | None:
        """The API's CORS with the origin of the distribution created earlier in this run."""
        if cors is None or not cors.page_origin_pending:
            return cors
        origin = self.assigned.get("web_origin")
        if not origin:
            raise DeploymentError(
                "the web page's HTTPS origin is unknown, so the API's CORS cannot allow it", where="CORS"
            )
        return replace(
            cors, allow_origins=tuple(sorted({*cors.allow_origins, origin})), page_origin_pending=False
        )

    def _signed(self, distribution: Distribution) -> Distribution:
        """With the id of the access control created earlier in this run, if it was."""
        if distribution.access_control_id:
            return distribution
        return replace(
            distribution, access_control_id=self._assigned("access_control_id", distribution.reference)
        )

    def _policy(self, policy: BucketPolicy) -> BucketPolicy:
        if policy.document:
            return policy
        arn = self._assigned("distribution_arn", f"s3://{policy.bucket}")
        return replace(policy, document=canonical(bucket_policy(policy.bucket, arn)))

    def _assigned(self, key: str, where: str) -> str:
        if key not in self.assigned:
            raise DeploymentError(
                f"needs the {key.replace('_', ' ')} created in this run, and none was", where=where
            )
        return self.assigned[key]

    def _wait_deployed(self, distribution: Distribution) -> Distribution:
        """Waits until CloudFront has deployed the distribution to its edges (minutes)."""
        self.assigned.update(
            distribution_id=distribution.distribution_id,
            distribution_arn=distribution.arn,
            web_origin=distribution.origin,
        )
        started = self.clock.now()
        what = f"distribution {distribution.distribution_id} ({distribution.domain_name})"
        while True:
            current = self.aws.cdn.read(distribution.distribution_id)
            elapsed = self.clock.now() - started
            if current is None:
                raise DeploymentError("the distribution disappeared while deploying", where=what)
            self.report(f"  {what}: {current.status} ({elapsed:.0f}s)")
            if current.status == "Deployed":
                return current
            self._pause(
                elapsed,
                what,
                self.waits.distribution_timeout_seconds,
                self.waits.distribution_poll_seconds,
            )

    def _delete_distribution(self, found: Distribution) -> None:
        """Disable, wait for that to deploy, delete: resumable from any step (a destroy run again)."""
        current = self.aws.cdn.read(found.distribution_id)
        if current is None:
            return  # deleted since it was read
        if current.enabled:
            current = self.aws.cdn.disable(current.distribution_id)
        self.aws.cdn.delete(self._wait_deployed(current))

    def _delete_access_control(self, control_id: str) -> None:
        """CloudFront may still count the distribution deleted a moment ago as a user."""
        started = self.clock.now()
        while True:
            try:
                self.aws.cdn.delete_access_control(control_id)
                return
            except ClientError as error:
                if error_code(error) != "OriginAccessControlInUse":
                    raise
            elapsed = self.clock.now() - started
            self.report(f"  origin access control {control_id}: still in use ({elapsed:.0f}s)")
            self._pause(
                elapsed,
                f"origin access control {control_id}",
                self.waits.distribution_timeout_seconds,
                self.waits.distribution_poll_seconds,
            )

    def _invalidate(self, invalidation: Invalidation) -> None:
        distribution_id = invalidation.distribution_id
        invalidation_id = self.aws.cdn.invalidate(distribution_id, invalidation.paths, invalidation.reference)
        started = self.clock.now()
        while (status := self.aws.cdn.invalidation_status(distribution_id, invalidation_id)) != "Completed":
            elapsed = self.clock.now() - started
            self.report(f"  invalidation {invalidation_id}: {status} ({elapsed:.0f}s)")
            self._pause(
                elapsed,
                f"invalidation {invalidation_id}",
                self.waits.distribution_timeout_seconds,
                self.waits.distribution_poll_seconds,
            )

    def _publish_page(self, page: WebPage) -> None:
        api_url = page.api_url or self.assigned.get("api_url")
        if not api_url:
            raise DeploymentError("the API's URL is unknown, so the page cannot be rendered", where=page.key)
        body = website.render_page(api_url, page.model_name)
        self.aws.website.put_page(replace(page, api_url=api_url, sha256=website.sha256_of(body)), body)

"""moto's server, with the CloudFront rules AWS enforces and moto 5.2 leaves out.

The infra tests need a CloudFront that behaves like the real one where our
logic depends on it. Each patch below restores one documented AWS behaviour:

- origins keep OriginAccessControlId and S3OriginConfig, and cache behaviours
  keep FunctionAssociations (moto drops them from every response);
- UpdateFunction and PublishFunction exist, and a function has a DEVELOPMENT
  and a LIVE stage (DescribeFunction?Stage=LIVE);
- writes carrying a stale If-Match fail with PreconditionFailed, and a
  successful update issues a new ETag and puts the distribution back
  InProgress;
- an enabled distribution cannot be deleted (DistributionNotDisabled), nor an
  OAC or function that a distribution still uses (...InUse).

Usage: moto_server.py -H HOST -p PORT (the same flags as moto_server).
"""

import sys

from moto.cloudfront import models, responses, urls
from moto.cloudfront.exceptions import CloudFrontException
from moto.core.responses import ActionResult
from moto.server import main


class PreconditionFailed(CloudFrontException):
    code = 412

    def __init__(self) -> None:
        super().__init__("PreconditionFailed", "The If-Match version does not match.")


class InUse(CloudFrontException):
    def __init__(self, code: str, what: str) -> None:
        super().__init__(code, f"The {what} is in use by a distribution.")


def check_if_match(resource, if_match) -> None:
    if if_match != resource.etag:
        raise PreconditionFailed()


# -- distribution config fields moto drops ----------------------------------

_origin_init = models.Origin.__init__


def origin_init(self, origin):
    _origin_init(self, origin)
    self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
    if "S3OriginConfig" in origin:
        oai = (origin["S3OriginConfig"] or {}).get("OriginAccessIdentity") or ""
        self.s3_origin_config = {"OriginAccessIdentity": oai}


models.Origin.__init__ = origin_init

_behaviour_init = models.DefaultCacheBehaviour.__init__


def behaviour_init(self, config):
    _behaviour_init(self, config)
    assoc = config.get("FunctionAssociations") or {}
    items = assoc.get("Items") or []
    self.function_associations = {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}


models.DefaultCacheBehaviour.__init__ = behaviour_init


def distributions_using(backend, predicate):
    return [
        d
        for d in backend.distributions.values()
        if predicate(d.distribution_config)
    ]


# -- distributions: ETags, InProgress after update, no deleting while enabled -

_update_distribution = models.CloudFrontBackend.update_distribution


def update_distribution(self, dist_config, _id, if_match):
    if _id in self.distributions:
        check_if_match(self.distributions[_id], if_match)
    dist, location, _ = _update_distribution(self, dist_config, _id, if_match)
    dist.etag = models.random_id()
    dist.status = "InProgress"
    dist._tick = 0
    return dist, location, dist.etag


def delete_distribution(self, distribution_id, if_match):
    if distribution_id not in self.distributions:
        raise models.NoSuchDistribution
    dist = self.distributions[distribution_id]
    check_if_match(dist, if_match)
    if str(dist.distribution_config.Enabled).lower() == "true" or dist.status != "Deployed":
        raise CloudFrontException(
            "DistributionNotDisabled",
            "The distribution you are trying to delete has not been disabled.",
        )
    del self.distributions[distribution_id]


models.CloudFrontBackend.update_distribution = update_distribution
models.CloudFrontBackend.delete_distribution = delete_distribution

# -- OAC: not deletable while attached ---------------------------------------

_delete_oac = models.CloudFrontBackend.delete_origin_access_control


def delete_origin_access_control(self, control_id):
    def uses(config):
        return any(
            getattr(o, "origin_access_control_id", "") == control_id
            for o in config.Origins["Items"]
        )

    if distributions_using(self, uses):
        raise InUse("OriginAccessControlInUse", "origin access control")
    _delete_oac(self, control_id)


models.CloudFrontBackend.delete_origin_access_control = delete_origin_access_control

# -- functions: update, publish, LIVE stage, not deletable while associated --


def function_in_use(backend, arn):
    def uses(config):
        items = config.DefaultCacheBehavior.function_associations.get("Items") or []
        return any(i.get("FunctionARN") == arn for i in items)

    return bool(distributions_using(backend, uses))


def update_function(self, name, if_match, function_config, function_code):
    function = self.describe_function(name)
    check_if_match(function, if_match)
    function.config = function_config
    function.code = function_code
    function.stage = "DEVELOPMENT"
    function.status = "UNPUBLISHED"
    function.last_modified_time = models.utcnow()
    function.etag = models.random_id()
    return function


def publish_function(self, name, if_match):
    function = self.describe_function(name)
    check_if_match(function, if_match)
    function.live = {"code": function.code, "config": function.config}
    function.status = "UNASSOCIATED"
    function.etag = models.random_id()
    return function


_delete_function = models.CloudFrontBackend.delete_function


def delete_function(self, name, if_match):
    function = self.describe_function(name)
    check_if_match(function, if_match)
    if function_in_use(self, function.arn):
        raise InUse("FunctionInUse", "function")
    _delete_function(self, name, if_match)


models.CloudFrontBackend.update_function = update_function
models.CloudFrontBackend.publish_function = publish_function
models.CloudFrontBackend.delete_function = delete_function


def summary(function, stage):
    out = dict(function.function_summary)
    out["FunctionMetadata"] = dict(out["FunctionMetadata"], Stage=stage)
    return out


def r_update_function(self):
    function = self.backend.update_function(
        name=self._get_param("Name"),
        if_match=self._get_param("IfMatch"),
        function_config=self._get_param("FunctionConfig", {}),
        function_code=self._get_param("FunctionCode"),
    )
    return ActionResult({"FunctionSummary": summary(function, "DEVELOPMENT"), "ETag": function.etag})


def r_publish_function(self):
    function = self.backend.publish_function(
        name=self._get_param("Name"), if_match=self._get_param("IfMatch")
    )
    return ActionResult({"FunctionSummary": summary(function, "LIVE")})


def r_describe_function(self):
    function = self.backend.describe_function(name=self._get_param("Name"))
    stage = self._get_param("Stage") or "DEVELOPMENT"
    if stage == "LIVE" and not getattr(function, "live", None):
        raise models.NoSuchFunctionExists(function.name)
    return ActionResult({"FunctionSummary": summary(function, stage), "ETag": function.etag})


def r_get_function(self):
    function = self.backend.get_function(name=self._get_param("Name"))
    stage = self._get_param("Stage") or "DEVELOPMENT"
    live = getattr(function, "live", None)
    if stage == "LIVE" and not live:
        raise models.NoSuchFunctionExists(function.name)
    code = live["code"] if stage == "LIVE" else function.code
    return ActionResult(
        {"FunctionCode": code, "ETag": function.etag, "ContentType": "application/octet-stream"}
    )


responses.CloudFrontResponse.update_function = r_update_function
responses.CloudFrontResponse.publish_function = r_publish_function
responses.CloudFrontResponse.describe_function = r_describe_function
responses.CloudFrontResponse.get_function = r_get_function
urls.url_paths["{0}/2020-05-31/function/(?P<function_name>[^/]+)/publish$"] = (
    responses.CloudFrontResponse.dispatch
)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

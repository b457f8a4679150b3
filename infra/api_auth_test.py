"""Checks who may call which route of the deployed HTTP API, with and without the JwtIssuer
parameter: template.yaml goes through the SAM transform (samtranslator, offline, as `sam deploy`
would send it), then CloudFormation's Fn::If / AWS::NoValue are resolved for each case and the
API definition's routes are compared with the security the OpenAPI document declares. Run by
infra/test.sh with the venv that holds the SAM CLI."""

import json
import logging
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# The transform counts feature use for AWS's telemetry and warns that nothing published it.
logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)

NO_VALUE = object()
OPENAPI = "shared/http/src/openapi.json"


def documented():
    """(method, path) -> who may call it when JwtIssuer is set, as the OpenAPI document says."""
    document = json.load(open(OPENAPI))
    routes = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            routes[(method, path)] = "jwt" if "jwt" in schemes else "iam" if "iam" in schemes else "public"
    return routes


class NoManagedPolicies:
    def load(self):
        return {}


def resolve(node, conditions):
    """The node as CloudFormation would deploy it under `conditions` (Fn::If and AWS::NoValue)."""
    if isinstance(node, dict):
        if "Fn::If" in node:
            if len(node) != 1:
                raise ValueError(f"Fn::If beside other keys (invalid for CloudFormation): {node}")
            name, when_true, when_false = node["Fn::If"]
            return resolve(when_true if conditions[name] else when_false, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        resolved = {key: resolve(value, conditions) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}
    if isinstance(node, list):
        return [value for value in (resolve(item, conditions) for item in node) if value is not NO_VALUE]
    return node


def api_definition(template_path, requires_jwt):
    template = yaml_parse(open(template_path).read())
    # Local paths, as `sam package` replaces them with the S3 objects it uploads.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://placeholder/function.zip"
        if resource["Type"] == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = "s3://placeholder/definition.asl.json"
    transformed = transform(template, {}, NoManagedPolicies())
    conditions = {"RequiresJwt": requires_jwt, "HasAlertEmail": False}
    return resolve(transformed["Resources"]["Api"]["Properties"]["Body"], conditions)


def who_may_call(operation):
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    if not schemes:
        return "public"
    if schemes == {"PredictJwt"}:
        return "jwt"
    if schemes == {"AWS_IAM"}:
        return "iam"
    return f"unexpected schemes {sorted(schemes)}"


def check(template_path, requires_jwt, documented_routes):
    body = api_definition(template_path, requires_jwt)
    routes = {
        (method, path): who_may_call(operation)
        for path, item in body["paths"].items()
        for method, operation in item.items()
        if "x-amazon-apigateway-integration" in operation
    }
    expected = {
        route: ("public" if who == "jwt" and not requires_jwt else who)
        for route, who in documented_routes.items()
    }
    problems = [f"{m.upper()} {p}: {routes.get((m, p), 'not routed')}, expected {who}"
                for (m, p), who in expected.items() if routes.get((m, p)) != who]
    problems += [f"{m.upper()} {p} is routed but not documented" for (m, p) in routes.keys() - expected.keys()]
    schemes = body.get("components", {}).get("securitySchemes", {})
    if requires_jwt:
        authoriser = schemes.get("PredictJwt", {}).get("x-amazon-apigateway-authorizer", {})
        if authoriser.get("type") != "jwt" or authoriser.get("jwtConfiguration") != {
            "issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}:
            problems.append(f"the JWT authoriser is not built from the parameters: {authoriser}")
    elif "PredictJwt" in schemes:
        problems.append("a JWT scheme is defined without JwtIssuer")
    return problems


def main():
    template_path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    documented_routes = documented()
    failed = False
    for requires_jwt in (False, True):
        case = "with JwtIssuer" if requires_jwt else "without JwtIssuer"
        problems = check(template_path, requires_jwt, documented_routes)
        for problem in problems:
            print(f"{case}: {problem}")
        failed |= bool(problems)
        if not problems:
            print(f"{case}: all {len(documented_routes)} routes authorised as {OPENAPI} says")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

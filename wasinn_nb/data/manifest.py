"""Every third-party file wasinn-nb can fetch: where it comes from, its size, sha256 and licence.

Nothing listed here is committed to the repository. ``mirror`` is the file's path inside a local
mirror folder (``--mirror DIR`` / ``WASINN_MIRROR``), laid out like ``shared/fixtures``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ASSETS", "BUNDLES", "Asset"]

_WEX = "https://raw.githubusercontent.com/second-state/WasmEdge-WASINN-examples/f66cd2bbcef56bb7199432b724febcaddc2b9e93/"
_DNX = "https://raw.githubusercontent.com/deislabs/wasi-nn-onnx/b15114b05fb9c313464d98286959f30e44f82724/"
_WTM = "https://raw.githubusercontent.com/bytecodealliance/wasmtime/e6b33de5139d915a48127fc78b790e2d306cf896/"
_OVR = "https://github.com/intel/openvino-rs/raw/v0.3.3/crates/openvino/tests/fixtures/mobilenet/"
_ONNX_ZOO = "https://media.githubusercontent.com/media/onnx/models/2a67a85e670e61bf9819e9df6dae3771974552ff/"
_CRL = "https://github.com/google-coral/test_data/raw/104342d2d3480b3e66203073dac24f4e2dbb4c41/"


@dataclass(frozen=True)
class Asset:
    """One downloadable file.

    Attributes:
        name: What users type (``wasinn fetch NAME``).
        filename: The file's name once fetched.
        kind: ``model``, ``image`` or ``labels`` (the folder it goes to).
        urls: Upstream URLs, tried in order.
        size: Size in bytes.
        sha256: The digest every copy must have.
        license: The licence it is used under.
        source: Where it comes from, for humans.
        mirror: Its path inside a mirror folder, or ``None`` when mirrors do not carry it.
    """

    name: str
    filename: str
    kind: str
    urls: tuple[str, ...]
    size: int
    sha256: str
    license: str
    source: str
    mirror: str | None = None


_LIST = (
    Asset("road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.xml", "model",
          (_WEX + "openvino-road-segmentation-adas/model/road-segmentation-adas-0001.xml",),
          401_509, "700f0691a10ef665e7af0c19823f521a58022cd03d55080fb884049709f4ee4a",
          "Apache-2.0", "Intel Open Model Zoo road-segmentation-adas-0001, OpenVINO IR",
          "openvino-road-segmentation-adas/road-segmentation-adas-0001.xml"),
    Asset("road-segmentation-adas-0001.bin", "road-segmentation-adas-0001.bin", "model",
          (_WEX + "openvino-road-segmentation-adas/model/road-segmentation-adas-0001.bin",),
          737_192, "3c1847f6f62ed91b8ca2d94b4242b833bfcfb9be6dfdb007e83d13084fb15e0b",
          "Apache-2.0", "Intel Open Model Zoo road-segmentation-adas-0001, IR weights",
          "openvino-road-segmentation-adas/road-segmentation-adas-0001.bin"),
    Asset("empty_road_mapillary.jpg", "empty_road_mapillary.jpg", "image",
          (_WEX + "openvino-road-segmentation-adas/image/empty_road_mapillary.jpg",),
          232_468, "ec0e37f215d67b29d0240869fef97afbb595341efe132c420b851c4cfd9b60cd",
          "as distributed with openvino_notebooks (Mapillary)", "openvino_notebooks hello-segmentation",
          "openvino-road-segmentation-adas/empty_road_mapillary.jpg"),
    Asset("mobilenet.xml", "mobilenet.xml", "model", (_OVR + "mobilenet.xml",),
          143_525, "b28eafd9f8cdf3e265dae4be2eacc4849c0d4693fde584ceca3541bcb4d79e6f",
          "Apache-2.0", "OpenVINO IR of TF mobilenet_v2_1.0_224 (openvino-rs test fixture)",
          "openvino-mobilenet/mobilenet.xml"),
    Asset("mobilenet.bin", "mobilenet.bin", "model",
          (_OVR + "mobilenet.bin",
           "https://download.01.org/openvinotoolkit/fixtures/mobilenet/mobilenet.bin"),
          13_956_476, "8371f708ef167a783ed01fc6635f4f05e76f720db95e954aff3cba3ed4f29924",
          "Apache-2.0", "weights of mobilenet.xml (git LFS upstream; not in the mirror)"),
    Asset("mobilenetv2-12.tar.gz", "mobilenetv2-12.tar.gz", "model",
          (_ONNX_ZOO + "validated/vision/classification/mobilenet/model/mobilenetv2-12.tar.gz",),
          13_498_787, "5f83b422708a708b592a5fd56d84710038511789df3ae510b84123930c37762d",
          "Apache-2.0", "ONNX model zoo MobileNetV2 (opset 12), archive with the .onnx and test data"),
    Asset("birds_v1.tflite", "lite-model_aiy_vision_classifier_birds_V1_3.tflite", "model",
          (_WEX + "tflite-birds_v1-image/lite-model_aiy_vision_classifier_birds_V1_3.tflite",),
          3_561_598, "95f59df4cff9053355abcd0b6e5e7e740f6eae19ed8cded32e2c3e8068195093",
          "Apache-2.0", "Google AIY Vision birds classifier V1 (TF Hub), u8 NHWC 224x224",
          "tflite-birds_v1-image/lite-model_aiy_vision_classifier_birds_V1_3.tflite"),
    Asset("bird.jpg", "bird.jpg", "image", (_WEX + "tflite-birds_v1-image/bird.jpg",),
          229_104, "e99770ebc03ea7a691dc627b5a35cbc7cd7606959068fdf22114a77b720461be",
          "as distributed with WasmEdge-WASINN-examples", "Mandarin duck photo (class 166)",
          "tflite-birds_v1-image/bird.jpg"),
    Asset("banana.jpg", "banana.jpg", "image", (_WEX + "openvino-mobilenet-image/input.jpg",),
          119_615, "58872621bb61bfa99670157e7402c7d59003d532fb5f78960a6e1177c202dc17",
          "Apache-2.0 (bytecodealliance/wasi-nn images)", "COCO banana photo",
          "openvino-mobilenet/input.jpg"),
    Asset("identity.onnx", "identity_input_output.onnx", "model",
          (_DNX + "tests/testdata/models/identity_input_output.onnx",),
          112, "eb68abfa54af414a6aa8ce2f7554c0076ad3833149b4fb5d99538578213fffd9",
          "MIT", "deislabs/wasi-nn-onnx test model: f32 [1,4] identity",
          "wasi-nn-onnx/identity_input_output.onnx"),
    Asset("imagenet-labels.txt", "squeezenet_labels.txt", "labels",
          (_DNX + "tests/testdata/models/squeezenet_labels.txt",),
          31_675, "acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355",
          "MIT", "ImageNet-1k synset labels, one per line", "wasi-nn-onnx/squeezenet_labels.txt"),
    Asset("husky.jpg", "n02109961.jpg", "image", (_DNX + "tests/testdata/images/n02109961.jpg",),
          231_573, "6c2555d20893a2b7a72f5eaca5a0d36a70060546bb96213d10cf0a08cee367d3",
          "MIT", "Eskimo dog (ImageNet n02109961)", "wasi-nn-onnx/n02109961.jpg"),
    Asset("suit.jpg", "n04350905.jpg", "image", (_DNX + "tests/testdata/images/n04350905.jpg",),
          70_681, "e66fdf616ee9f816aae771adc375c0064b6e28997123e9425d0bf0ec29c01eaa",
          "MIT", "suit (ImageNet n04350905)", "wasi-nn-onnx/n04350905.jpg"),
    Asset("mushroom.jpg", "n07734744.jpg", "image", (_DNX + "tests/testdata/images/n07734744.jpg",),
          466_336, "d60cf7b590432574985161cf7eb00e7e5907a919e56da5ed08b48824d737582e",
          "MIT", "mushroom (ImageNet n07734744)", "wasi-nn-onnx/n07734744.jpg"),
    Asset("kitten.png", "kitten.png", "image",
          (_WTM + "crates/wasi-nn/examples/classification-example-pytorch/fixture/kitten.png",),
          56_761, "e49fb5cd0c31b07984784e50a809825370d8adeac31c9f86ff396f64da635010",
          "Apache-2.0 WITH LLVM-exception", "tabby kitten", "wasmtime-wasi-nn/kitten.png"),
    Asset("dog.jpg", "dog.jpg", "image",
          (_WTM + "crates/wasi-nn/examples/classification-component-onnx/fixture/images/dog.jpg",),
          11_386, "ee795661f6d4656f2d36f585d57955ef5cdf98daaca7169f957fff2883fe3fcb",
          "Apache-2.0 WITH LLVM-exception", "dog photo", "wasmtime-wasi-nn/dog.jpg"),
    Asset("mobilenet_v2_quant.tflite", "mobilenet_v2_1.0_224_quant.tflite", "model",
          (_CRL + "mobilenet_v2_1.0_224_quant.tflite",),
          3_610_798, "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776",
          "Apache-2.0", "MobileNet V2 1.0/224 ImageNet, quantized: u8 [1,224,224,3] RGB in, u8 [1,1001] out (google-coral/test_data)",
          "coral-test-data/mobilenet_v2_1.0_224_quant.tflite"),
    Asset("imagenet-labels-1001.txt", "imagenet_labels.txt", "labels", (_CRL + "imagenet_labels.txt",),
          21_686, "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1",
          "Apache-2.0", "ImageNet labels for 1001-class models, 'background' first (google-coral/test_data)",
          "coral-test-data/imagenet_labels.txt"),
    Asset("deeplabv3_pascal_quant.tflite", "deeplabv3_mnv2_pascal_quant.tflite", "model",
          (_CRL + "deeplabv3_mnv2_pascal_quant.tflite",),
          2_193_224, "350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398",
          "Apache-2.0", "DeepLab V3 MobileNetV2 PASCAL VOC: u8 [1,513,513,3] RGB in, i64 [1,513,513] class map out (google-coral/test_data)",
          "coral-test-data/deeplabv3_mnv2_pascal_quant.tflite"),
    Asset("pascal-voc-labels.txt", "pascal_voc_segmentation_labels.txt", "labels",
          (_CRL + "pascal_voc_segmentation_labels.txt",),
          263, "7337a2b06728385fb3e1106416c67bfddf69628598b1f2f0db6a63cd63fb6b1e",
          "Apache-2.0", "the 21 PASCAL VOC classes, 'background' first, then a note after a blank line",
          "coral-test-data/pascal_voc_segmentation_labels.txt"),
    Asset("cat.bmp", "cat.bmp", "image", (_CRL + "cat.bmp",),
          523_914, "34f235786382686111728287fd26d4c24dd8c25de8233469d6eeb301888ce0a9",
          "Apache-2.0", "cat photo (google-coral/test_data; 286 Egyptian cat)", "coral-test-data/cat.bmp"),
    Asset("grace_hopper.bmp", "grace_hopper.bmp", "image", (_CRL + "grace_hopper.bmp",),
          921_738, "c43444bf3b1b1e3080551ca194bd231da4b67f20fc91454502915a6b806b614f",
          "Apache-2.0", "Grace Hopper portrait (google-coral/test_data; 653 military uniform)",
          "coral-test-data/grace_hopper.bmp"),
    Asset("parrot.jpg", "parrot.jpg", "image", (_CRL + "parrot.jpg",),
          596_977, "a8fba9e7e29439fa414c13129aad661f2289ff891231920a7c33641b076f1833",
          "Apache-2.0", "parrot photo (google-coral/test_data; 89 macaw)", "coral-test-data/parrot.jpg"),
    Asset("bird.bmp", "bird.bmp", "image", (_CRL + "bird.bmp",),
          526_986, "3fd22d6ed352b8e721d9982e38ed655f8429e168bb53ad205c6f3cdfa848e994",
          "Apache-2.0", "bird photo (google-coral/test_data; DeepLab bird share 0.188)",
          "coral-test-data/bird.bmp"),
    Asset("sunflower.bmp", "sunflower.bmp", "image", (_CRL + "sunflower.bmp",),
          522_378, "896b5e31cee42ebe32ee91251fc42041ca03c767fe02bd7ebc0e37d45f4a45b2",
          "Apache-2.0", "sunflower photo (google-coral/test_data)", "coral-test-data/sunflower.bmp"),
)  # fmt: skip

#: Assets by name.
ASSETS: dict[str, Asset] = {asset.name: asset for asset in _LIST}

#: Names that fetch several assets at once.
BUNDLES: dict[str, tuple[str, ...]] = {
    "road-segmentation": (
        "road-segmentation-adas-0001.xml",
        "road-segmentation-adas-0001.bin",
        "empty_road_mapillary.jpg",
    ),
    "openvino-mobilenet": ("mobilenet.xml", "mobilenet.bin", "banana.jpg"),
    "birds": ("birds_v1.tflite", "bird.jpg"),
    "imagenet-images": ("husky.jpg", "suit.jpg", "mushroom.jpg", "kitten.png", "banana.jpg"),
    "coral-mobilenet": (
        "mobilenet_v2_quant.tflite",
        "imagenet-labels-1001.txt",
        "banana.jpg",
        "cat.bmp",
        "grace_hopper.bmp",
        "parrot.jpg",
        "bird.bmp",
        "sunflower.bmp",
    ),
    "coral-deeplab": (
        "deeplabv3_pascal_quant.tflite",
        "pascal-voc-labels.txt",
        "bird.bmp",
        "cat.bmp",
    ),
}

"""VGG16's configuration, written once, gives the published shapes and parameter counts."""

import numpy as np

from conv_lib import conv2d
from conv_lib.models import vgg16_conv_layers, vgg16_features, vgg16_random_weights


def test_vgg16_has_13_convolutions_with_the_published_channel_counts():
    layers = vgg16_conv_layers()
    assert [layer["C_out"] for layer in layers] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    assert layers[0] == dict(name="conv1_1", C_in=3, C_out=64, H=224, W=224)
    assert layers[-1] == dict(name="conv5_3", C_in=512, C_out=512, H=14, W=14)


def test_vgg16_conv_parameters_total_14_714_688():
    # each layer: C_out filters of C_in*3*3 weights, plus C_out biases
    total = sum(l["C_out"] * (l["C_in"] * 9 + 1) for l in vgg16_conv_layers())
    assert total == 14_714_688
    weights, biases = vgg16_random_weights()
    assert sum(w.size for w in weights) + sum(b.size for b in biases) == total


def test_vgg16_features_shape_on_a_small_image(rng):
    weights, biases = vgg16_random_weights(dtype=np.float64)
    out = vgg16_features(rng.standard_normal((1, 3, 32, 32)), weights, biases)
    assert out.shape == (1, 512, 1, 1)  # five 2x2 pools: 32 -> 1


def test_vgg16_features_first_layer_is_conv_relu(rng):
    weights, biases = vgg16_random_weights(dtype=np.float64)
    x = rng.standard_normal((1, 3, 32, 32))
    first = vgg16_features(x, weights[:1], biases[:1], config=(64,))
    np.testing.assert_allclose(first, np.maximum(conv2d(x, weights[0], biases[0], padding=1), 0))

"""Network configurations, written once: VGG16's convolutional part.

numpy only. A configuration is a list whose numbers are 3x3 convolutions
(padding 1, stride 1, that many filters, each followed by a ReLU) and whose
"M" entries are 2x2 max pools with stride 2 (Simonyan & Zisserman, 2015, configuration D).
"""

import numpy as np

from .ops import conv2d, max_pool2d, relu
from .shapes import output_size

VGG16_CONV_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16_conv_layers(input_shape=(3, 224, 224), config=VGG16_CONV_CONFIG):
    """The convolution layers of VGG16 with the shapes they see.

    input_shape: (C, H, W) of one image.
    Returns a list of dicts, one per convolution, in order:
        name ("conv1_1", ...), C_in, C_out, H, W (the input's height and width;
        the output has the same height and width since padding is 1).
    """
    channels, height, width = input_shape
    block, index, layers = 1, 1, []
    for entry in config:
        if entry == "M":
            height, width = output_size(height, 2, 0, 2), output_size(width, 2, 0, 2)
            block, index = block + 1, 1
            continue
        layers.append(dict(name=f"conv{block}_{index}", C_in=channels, C_out=entry, H=height, W=width))
        channels, index = entry, index + 1
    return layers


def vgg16_random_weights(input_channels=3, config=VGG16_CONV_CONFIG, dtype=np.float32, seed=0):
    """He-initialised weights for the convolution layers of a VGG configuration.

    Returns (weights, biases): lists with w: (C_out, C_in, 3, 3) and b: (C_out,) per convolution.
    """
    rng = np.random.default_rng(seed)
    weights, biases, channels = [], [], input_channels
    for entry in config:
        if entry == "M":
            continue
        scale = np.sqrt(2.0 / (channels * 9))
        weights.append((rng.standard_normal((entry, channels, 3, 3)) * scale).astype(dtype))
        biases.append(np.zeros(entry, dtype=dtype))
        channels = entry
    return weights, biases


def vgg16_features(x, weights, biases, config=VGG16_CONV_CONFIG, conv=conv2d, pool=max_pool2d):
    """Forward pass through VGG16's convolutional part: [conv 3x3 pad 1, ReLU]... and 2x2 max pools.

    x: (N, 3, 224, 224) for the standard network.
    weights, biases: one (C_out, C_in, 3, 3) and one (C_out,) per convolution in ``config``.
    Returns (N, 512, 7, 7) for a 224x224 input.
    """
    parameters = iter(zip(weights, biases))
    for entry in config:
        if entry == "M":
            x = pool(x, 2, 2)
        else:
            w, b = next(parameters)
            x = relu(conv(x, w, b, padding=1))
    return x

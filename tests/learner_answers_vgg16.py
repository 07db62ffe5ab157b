"""Learner answers to notebook 05: vgg16_table(input_shape=(3, 224, 224)) and vgg_block(x, weights, biases).

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np, conv_lib, models, and conv_lib's conv2d, max_pool2d and relu. Most table answers are one
loop-written table (VGG16_LOOPS) with one line changed.
"""

import textwrap

from answer_rows import answer, variant

VGG16_LOOPS = textwrap.dedent("""
    def vgg16_table(input_shape=(3, 224, 224)):
        C, H, W = input_shape
        rows = []
        for block, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
            for index in range(1, convs + 1):
                params = filters * (C * 3 * 3 + 1)
                macs = H * W * filters * C * 3 * 3
                rows.append({"name": f"conv{block}_{index}", "output_shape": (filters, H, W),
                             "params": params, "macs": macs})
                C = filters
            H, W = H // 2, W // 2
            rows.append({"name": f"pool{block}", "output_shape": (C, H, W), "params": 0, "macs": 0})
        n_in = C * H * W
        for name, n_out in [("fc6", 4096), ("fc7", 4096), ("fc8", 1000)]:
            rows.append({"name": name, "output_shape": (n_out,), "params": n_out * (n_in + 1), "macs": n_in * n_out})
            n_in = n_out
        return rows
    """)

VGG16_TABLE = [
    answer("vgg16_table", "always_the_224_image", "loops",
           variant(VGG16_LOOPS, "C, H, W = input_shape", "C, H, W = 3, 224, 224"), ("input-shape-ignored",)),
    answer("vgg16_table", "conv_weights_without_bias", "loops",
           variant(VGG16_LOOPS, "params = filters * (C * 3 * 3 + 1)", "params = filters * C * 3 * 3"),
           ("missing-bias",)),
    answer("vgg16_table", "a_bias_per_channel", "loops",
           variant(VGG16_LOOPS, "params = filters * (C * 3 * 3 + 1)", "params = filters * C * (3 * 3 + 1)"),
           ("bias-per-channel",)),
    answer("vgg16_table", "flat_filters", "loops",
           variant(VGG16_LOOPS, "params = filters * (C * 3 * 3 + 1)", "params = filters * (3 * 3 + 1)"),
           ("filter-depth",)),
    answer("vgg16_table", "one_filter_per_layer", "loops",
           variant(VGG16_LOOPS, "params = filters * (C * 3 * 3 + 1)", "params = C * 3 * 3 + 1"),
           ("filter-count",)),
    answer("vgg16_table", "counts_flops", "loops",
           variant(VGG16_LOOPS, "macs = H * W * filters * C * 3 * 3", "macs = 2 * H * W * filters * C * 3 * 3"),
           ("macs-wrong",)),
    answer("vgg16_table", "kernel_counted_once_in_the_macs", "loops",
           variant(VGG16_LOOPS, "macs = H * W * filters * C * 3 * 3", "macs = H * W * filters * C * 3"),
           ("wrong-values",)),
    answer("vgg16_table", "fc6_sees_the_channels", "loops",
           variant(VGG16_LOOPS, "n_in = C * H * W", "n_in = C"), ("fc-input-size",)),
    answer("vgg16_table", "a_pool_has_a_window_of_weights", "loops",
           variant(VGG16_LOOPS, '"output_shape": (C, H, W), "params": 0,', '"output_shape": (C, H, W), "params": C * 2 * 2,'),
           ("pool-has-params",)),
    answer("vgg16_table", "convolutions_without_padding", "loops",
           variant(VGG16_LOOPS, "            params = filters * (C * 3 * 3 + 1)\n",
                   "            H, W = H - 2, W - 2\n            params = filters * (C * 3 * 3 + 1)\n"),
           ("output-size",)),
    answer("vgg16_table", "conv_keeps_the_channel_count", "loops",
           variant(VGG16_LOOPS, '"output_shape": (filters, H, W)', '"output_shape": (C, H, W)'),
           ("conv-keeps-channels",)),
    answer("vgg16_table", "a_map_per_filter_and_channel", "loops",
           variant(VGG16_LOOPS, '"output_shape": (filters, H, W)', '"output_shape": (filters * C, H, W)'),
           ("per-filter-per-channel",)),
    answer("vgg16_table", "a_pool_keeps_one_channel", "loops",
           variant(VGG16_LOOPS, '"output_shape": (C, H, W), "params": 0,', '"output_shape": (1, H, W), "params": 0,'),
           ("pool-mixes-channels",)),
    answer("vgg16_table", "input_shape_read_as_an_array", "loops",
           variant(VGG16_LOOPS, "C, H, W = input_shape", "C, H, W = input_shape.shape"), ("raises",)),
    answer("vgg16_table", "forgets_to_return", "loops", variant(VGG16_LOOPS, "    return rows\n", ""),
           ("no-return",)),
    answer("vgg16_table", "one_list_per_column", "unusual", """
        def vgg16_table(input_shape=(3, 224, 224)):
            table = {"name": [], "output_shape": [], "params": [], "macs": []}

            def add(name, shape, params, macs):
                for column, value in zip(table, (name, shape, params, macs)):
                    table[column].append(value)

            C, H, W = input_shape
            for block, convs in enumerate([[64, 64], [128, 128], [256] * 3, [512] * 3, [512] * 3], start=1):
                for index, filters in enumerate(convs, start=1):
                    add(f"conv{block}_{index}", (filters, H, W), filters * (C * 9 + 1), H * W * filters * C * 9)
                    C = filters
                H, W = H // 2, W // 2
                add(f"pool{block}", (C, H, W), 0, 0)
            n_in = C * H * W
            for name, n_out in [("fc6", 4096), ("fc7", 4096), ("fc8", 1000)]:
                add(name, (n_out,), n_out * (n_in + 1), n_in * n_out)
                n_in = n_out
            return table
        """, ("not-a-table",)),
    answer("vgg16_table", "the_librarys_summary", "vectorised", """
        def vgg16_table(input_shape=(3, 224, 224)):
            return [row for row in models.summary(models.vgg16(), input_shape) if row.kind in ("conv", "pool", "linear")]
        """, ("reference-call",)),
]

VGG_BLOCK = [
    answer("vgg_block", "no_relu", "vectorised", """
        def vgg_block(x, weights, biases):
            for w, b in zip(weights, biases):
                x = conv2d(x, w, b, padding=1)
            return max_pool2d(x, 2, 2)
        """, ("relu-missing",)),
    answer("vgg_block", "one_relu_at_the_end", "unusual", """
        import functools

        def vgg_block(x, weights, biases):
            x = functools.reduce(lambda h, layer: conv2d(h, *layer, padding=1), zip(weights, biases), x)
            return max_pool2d(relu(x), 2, 2)
        """, ("relu-missing",)),
    answer("vgg_block", "no_pool", "loops", """
        def vgg_block(x, weights, biases):
            for i in range(len(weights)):
                x = relu(conv2d(x, weights[i], biases[i], padding=1))
            return x
        """, ("pool-missing",)),
    answer("vgg_block", "no_padding", "vectorised", """
        def vgg_block(x, weights, biases):
            for w, b in zip(weights, biases):
                x = relu(conv2d(x, w, b))
            return max_pool2d(x, 2, 2)
        """, ("padding-missing",)),
    answer("vgg_block", "relu_then_bias", "loops", """
        def vgg_block(x, weights, biases):
            for i in range(len(weights)):
                x = relu(conv2d(x, weights[i], np.zeros(len(biases[i])), padding=1)) + biases[i][None, :, None, None]
            return max_pool2d(x, 2, 2)
        """, ("relu-before-bias",)),
    answer("vgg_block", "convolutions_without_bias", "vectorised", """
        def vgg_block(x, weights, biases):
            for w in weights:
                x = relu(conv2d(x, w, padding=1))
            return max_pool2d(x, 2, 2)
        """, ("missing-bias",)),
    answer("vgg_block", "first_convolution_only", "vectorised", """
        def vgg_block(x, weights, biases):
            x = relu(conv2d(x, weights[0], biases[0], padding=1))
            return max_pool2d(x, 2, 2)
        """, ("block-incomplete",)),
    answer("vgg_block", "average_pool", "vectorised", """
        def vgg_block(x, weights, biases):
            for w, b in zip(weights, biases):
                x = relu(conv2d(x, w, b, padding=1))
            return conv_lib.avg_pool2d(x, 2, 2)
        """, ("avg-not-max",)),
    answer("vgg_block", "first_image_only", "loops", """
        def vgg_block(x, weights, biases):
            image = x[:1]
            for i in range(len(weights)):
                image = relu(conv2d(image, weights[i], biases[i], padding=1))
            return max_pool2d(image, 2, 2)
        """, ("batch-mixed",)),
    answer("vgg_block", "pool_with_stride_one", "vectorised", """
        def vgg_block(x, weights, biases):
            for w, b in zip(weights, biases):
                x = relu(conv2d(x, w, b, padding=1))
            return max_pool2d(x, 2, 1)
        """, ("output-size",)),
    answer("vgg_block", "absolute_value_for_relu", "vectorised", """
        def vgg_block(x, weights, biases):
            for w, b in zip(weights, biases):
                x = np.abs(conv2d(x, w, b, padding=1))
            return max_pool2d(x, 2, 2)
        """, ("wrong-values",)),
    answer("vgg_block", "pairs_without_zip", "loops", """
        def vgg_block(x, weights, biases):
            for w, b in weights, biases:
                x = relu(conv2d(x, w, b, padding=1))
            return max_pool2d(x, 2, 2)
        """, ("raises",)),
    answer("vgg_block", "forgets_to_return", "vectorised", """
        def vgg_block(x, weights, biases):
            for w, b in zip(weights, biases):
                x = relu(conv2d(x, w, b, padding=1))
            x = max_pool2d(x, 2, 2)
        """, ("no-return",)),
    answer("vgg_block", "returns_every_activation", "loops", """
        def vgg_block(x, weights, biases):
            activations = [x]
            for w, b in zip(weights, biases):
                activations.append(relu(conv2d(activations[-1], w, b, padding=1)))
            activations.append(max_pool2d(activations[-1], 2, 2))
            return activations
        """, ("not-an-array",)),
]

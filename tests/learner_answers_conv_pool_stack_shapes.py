"""Learner answers to notebook 04's stacks: stack_shapes(input_shape, layers) and receptive_field(layers).

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np, conv_lib, models, and conv_lib's output_size.
"""

from answer_rows import answer

STACK_SHAPES = [
    answer("stack_shapes", "a_pool_halves", "loops", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, c_out, k, stride, padding = layer
                    C = c_out
                    H = (H + 2 * padding - k) // stride + 1
                    W = (W + 2 * padding - k) // stride + 1
                elif layer[0] == "pool":
                    H, W = H // 2, W // 2
                shapes.append((C, H, W))
            return shapes
        """, ("output-size",)),
    answer("stack_shapes", "conv_keeps_the_channel_count", "vectorised", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            size = np.array([H, W])
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, c_out, k, stride, padding = layer
                    size = (size + 2 * padding - k) // stride + 1
                elif layer[0] == "pool":
                    _, k, stride = layer
                    size = (size - k) // stride + 1
                shapes.append((C, int(size[0]), int(size[1])))
            return shapes
        """, ("conv-keeps-channels",)),
    answer("stack_shapes", "a_map_per_filter_and_channel", "unusual", """
        def stack_shapes(input_shape, layers):
            def conv(shape, c_out, k, stride, padding):
                C, H, W = shape
                return (C * c_out, output_size(H, k, padding, stride), output_size(W, k, padding, stride))

            def pool(shape, size, stride):
                C, H, W = shape
                return (C, output_size(H, size, 0, stride), output_size(W, size, 0, stride))

            rules = {"conv": conv, "pool": pool, "relu": lambda shape: shape}
            shapes, shape = [], tuple(input_shape)
            for kind, *numbers in layers:
                shape = rules[kind](shape, *numbers)
                shapes.append(shape)
            return shapes
        """, ("per-filter-per-channel",)),
    answer("stack_shapes", "a_pool_keeps_one_channel", "loops", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, c_out, k, stride, padding = layer
                    C, H, W = c_out, output_size(H, k, padding, stride), output_size(W, k, padding, stride)
                elif layer[0] == "pool":
                    _, size, stride = layer
                    C, H, W = 1, output_size(H, size, 0, stride), output_size(W, size, 0, stride)
                shapes.append((C, H, W))
            return shapes
        """, ("pool-mixes-channels",)),
    answer("stack_shapes", "a_relu_pools_like_a_default_pool", "unusual", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, C, k, stride, padding = layer
                    H, W = output_size(H, k, padding, stride), output_size(W, k, padding, stride)
                else:   # a pool, or a ReLU, which pools with the default 2x2 window
                    size, stride = layer[1:] if len(layer) == 3 else (2, 2)
                    H, W = output_size(H, size, 0, stride), output_size(W, size, 0, stride)
                shapes.append((C, H, W))
            return shapes
        """, ("relu-changes-shape", "raises")),  # the halving ReLUs leave LeNet's last pool no room: it crashes
    answer("stack_shapes", "starts_with_the_input_shape", "vectorised", """
        def stack_shapes(input_shape, layers):
            shapes = [tuple(input_shape)]
            for layer in layers:
                C, H, W = shapes[-1]
                if layer[0] == "conv":
                    _, C, k, stride, padding = layer
                    H, W = output_size(H, k, padding, stride), output_size(W, k, padding, stride)
                elif layer[0] == "pool":
                    _, k, stride = layer
                    H, W = output_size(H, k, 0, stride), output_size(W, k, 0, stride)
                shapes.append((C, H, W))
            return shapes
        """, ("one-per-layer",)),
    answer("stack_shapes", "shapes_as_text", "loops", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, C, k, stride, padding = layer
                    H, W = output_size(H, k, padding, stride), output_size(W, k, padding, stride)
                elif layer[0] == "pool":
                    _, k, stride = layer
                    H, W = output_size(H, k, 0, stride), output_size(W, k, 0, stride)
                shapes.append(f"{C}x{H}x{W}")
            return shapes
        """, ("not-a-shape-list",)),
    answer("stack_shapes", "the_librarys_layer_output_shape", "vectorised", """
        def stack_shapes(input_shape, layers):
            shapes, shape = [], tuple(input_shape)
            for layer in layers:
                shape = models.layer_output_shape(layer, shape)
                shapes.append(shape)
            return shapes
        """, ("reference-call",)),
    answer("stack_shapes", "every_other_layer_unpacked_as_a_pool", "loops", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, C, k, stride, padding = layer
                    H, W = output_size(H, k, padding, stride), output_size(W, k, padding, stride)
                else:
                    _, size, stride = layer
                    H, W = output_size(H, size, 0, stride), output_size(W, size, 0, stride)
                shapes.append((C, H, W))
            return shapes
        """, ("raises",)),
    answer("stack_shapes", "kernel_and_filters_read_in_the_wrong_order", "loops", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, k, c_out, stride, padding = layer
                    C = c_out
                    H = (H + 2 * padding - k) // stride + 1
                    W = (W + 2 * padding - k) // stride + 1
                elif layer[0] == "pool":
                    _, size, stride = layer
                    H, W = (H - size) // stride + 1, (W - size) // stride + 1
                shapes.append((C, H, W))
            return shapes
        """, ("wrong-values", "output-size")),
    answer("stack_shapes", "forgets_to_return", "loops", """
        def stack_shapes(input_shape, layers):
            C, H, W = input_shape
            shapes = []
            for layer in layers:
                if layer[0] == "conv":
                    _, C, k, stride, padding = layer
                    H, W = output_size(H, k, padding, stride), output_size(W, k, padding, stride)
                elif layer[0] == "pool":
                    _, k, stride = layer
                    H, W = output_size(H, k, 0, stride), output_size(W, k, 0, stride)
                shapes.append((C, H, W))
        """, ("no-return",)),
]

RECEPTIVE_FIELD = [
    answer("receptive_field", "adds_k_minus_one_per_layer", "unusual", """
        import functools

        def receptive_field(layers):
            kernels = [layer[2] if layer[0] == "conv" else layer[1] for layer in layers if layer[0] != "relu"]
            return functools.reduce(lambda field, k: field + k - 1, kernels, 1)
        """, ("stride-ignored",)),
    answer("receptive_field", "product_of_the_kernels", "vectorised", """
        def receptive_field(layers):
            kernels = [layer[2] if layer[0] == "conv" else layer[1] for layer in layers if layer[0] != "relu"]
            return int(np.prod(kernels))
        """, ("kernels-multiplied",)),
    answer("receptive_field", "padding_widens_the_field", "loops", """
        def receptive_field(layers):
            field, jump = 1, 1
            for layer in layers:
                if layer[0] == "conv":
                    _, _, k, stride, padding = layer
                elif layer[0] == "pool":
                    _, k, stride = layer
                    padding = 0
                else:
                    continue
                field += (k - 1 + 2 * padding) * jump
                jump *= stride
            return field
        """, ("padding-counted",)),
    answer("receptive_field", "stride_multiplies_first", "loops", """
        def receptive_field(layers):
            field, jump = 1, 1
            for layer in layers:
                if layer[0] == "conv":
                    k, stride = layer[2], layer[3]
                elif layer[0] == "pool":
                    k, stride = layer[1], layer[2]
                else:
                    continue
                jump *= stride
                field += (k - 1) * jump
            return field
        """, ("stride-too-early",)),
    answer("receptive_field", "convolutions_only", "loops", """
        def receptive_field(layers):
            field, jump = 1, 1
            for layer in layers:
                if layer[0] == "conv":
                    field += (layer[2] - 1) * jump
                    jump *= layer[3]
            return field
        """, ("pool-ignored",)),
    answer("receptive_field", "cumulative_jumps_without_the_first_pixel", "vectorised", """
        def receptive_field(layers):
            windows = [(layer[2], layer[3]) if layer[0] == "conv" else (layer[1], layer[2])
                       for layer in layers if layer[0] != "relu"]
            kernels = np.array([k for k, _ in windows])
            jumps = np.cumprod([1] + [stride for _, stride in windows[:-1]])
            return int(np.sum((kernels - 1) * jumps))
        """, ("off-by-one",)),
    answer("receptive_field", "widens_by_the_layers_own_stride", "loops", """
        def receptive_field(layers):
            field = 1
            for layer in layers:
                if layer[0] == "conv":
                    k, stride = layer[2], layer[3]
                elif layer[0] == "pool":
                    k, stride = layer[1], layer[2]
                else:
                    continue
                field += (k - 1) * stride
            return field
        """, ("wrong-values",)),
    answer("receptive_field", "returns_the_field_after_each_layer", "loops", """
        def receptive_field(layers):
            field, jump, fields = 1, 1, []
            for layer in layers:
                if layer[0] == "conv":
                    k, stride = layer[2], layer[3]
                elif layer[0] == "pool":
                    k, stride = layer[1], layer[2]
                else:
                    continue
                field += (k - 1) * jump
                jump *= stride
                fields.append(field)
            return fields
        """, ("not-an-array",)),
    answer("receptive_field", "forgets_to_return", "loops", """
        def receptive_field(layers):
            field, jump = 1, 1
            for layer in layers:
                if layer[0] == "conv":
                    k, stride = layer[2], layer[3]
                elif layer[0] == "pool":
                    k, stride = layer[1], layer[2]
                else:
                    continue
                field += (k - 1) * jump
                jump *= stride
        """, ("no-return",)),
    answer("receptive_field", "every_layer_unpacked_as_a_conv", "loops", """
        def receptive_field(layers):
            field, jump = 1, 1
            for layer in layers:
                if layer[0] == "relu":
                    continue
                _, _, k, stride, _ = layer
                field += (k - 1) * jump
                jump *= stride
            return field
        """, ("raises",)),
    answer("receptive_field", "backwards_from_the_output", "unusual", """
        def receptive_field(layers):
            field = 1
            for layer in reversed(layers):
                if layer[0] == "conv":
                    k, stride = layer[2], layer[3]
                elif layer[0] == "pool":
                    k, stride = layer[1], layer[2]
                else:
                    continue
                field = (field - 1) * stride + k
            return field
        """),
]

"""The course's interactive views, one module per topic.

Each function here builds a ``nnlib.display.widgets.LiveView``: the notebook displays it
in one line, and ``scripts/benchmark.py`` times its ``render`` over a sweep of
control values (every view must redraw in under 100 ms). ``VIEWS`` lists them
for the benchmark and the tests: adding a view is a one-entry change.
"""

VIEWS = {
    "neuron explorer": "nnlib.views.neurons:neuron_explorer",
    "two-layer XOR": "nnlib.views.neurons:xor_network_explorer",
    "activation explorer": "nnlib.views.activations:activation_explorer",
    "depth and initialization": "nnlib.views.activations:depth_explorer",
    "loss explorer": "nnlib.views.losses:loss_explorer",
    "outlier fit": "nnlib.views.losses:outlier_fit_explorer",
    "backprop stepper": "nnlib.views.backprop:backprop_stepper",
    "gradient check epsilon": "nnlib.views.backprop:epsilon_explorer",
    "optimizer landscape": "nnlib.views.optimizers:landscape_explorer",
    "optimizer race": "nnlib.views.optimizers:optimizer_race",
    "playground": "nnlib.views.playground:playground",
    "L1 vs L2 weights": "nnlib.views.regularization:penalty_explorer",
    "kernel explorer": "nnlib.views.cnn:kernel_explorer",
    "CNN feature maps": "nnlib.views.cnn:feature_map_explorer",
    "occlusion": "nnlib.views.cnn:occlusion_explorer",
    "CNN layers": "nnlib.views.cnn:conv_stack_explorer",
    "spectral radius": "nnlib.views.rnn:spectral_radius_explorer",
    "forget-gate bias": "nnlib.views.lstm:forget_bias_explorer",
    "GRU update gate": "nnlib.views.gru:update_gate_explorer",
    "sampling temperature": "nnlib.views.rnn:sampling_explorer",
    "LSTM gates": "nnlib.views.gates:gate_explorer",
    "LSTM cell": "nnlib.views.cells:lstm_cell_explorer",
    "GRU cell": "nnlib.views.cells:gru_cell_explorer",
    "GAN lab": "nnlib.views.gan:gan_lab",
    "GAN digits": "nnlib.views.gan:digit_trainer",
    "attention calculator": "nnlib.views.attention:attention_calculator",
    "positional encoding": "nnlib.views.attention:positional_encoding_explorer",
    "attention heads": "nnlib.views.transformer:head_maps",
    "transformer sampling": "nnlib.views.transformer:transformer_sampler",
}


def load_view(name):
    """Build the registered view called ``name`` (a key of ``VIEWS``)."""
    from importlib import import_module

    module, function = VIEWS[name].split(":")
    return getattr(import_module(module), function)()

"""The course's interactive views, one module per topic.

Each function here builds a ``nnlib.widgets.LiveView``: the notebook displays it
in one line, and ``scripts/benchmark.py`` times its ``render`` over a sweep of
control values (every view must redraw in under 100 ms). ``VIEWS`` lists them
for the benchmark and the tests: adding a view is a one-entry change.
"""

VIEWS = {
    "neuron explorer": "nnlib.views.neurons:neuron_explorer",
    "two-layer XOR": "nnlib.views.neurons:xor_network_explorer",
}

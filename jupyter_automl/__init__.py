"""jupyter-automl: AutoML and neural architecture search where notebooks live."""

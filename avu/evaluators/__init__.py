"""One evaluator per benchmark. See `avu.evaluators.base.Evaluator` for the contract."""

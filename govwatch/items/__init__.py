"""Service items (政务服务事项): model, validation, loading."""

"""Price data: providers (csv, yahoo, synthetic), validation and the aligned panel."""

__all__: list[str] = []

"""Price data: providers (csv, yahoo, synthetic), validation and the aligned panel."""

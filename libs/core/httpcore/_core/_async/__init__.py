"""The request helpers of API.md section 3."""

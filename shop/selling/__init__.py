"""The sellers' selling tools: discount codes, pay-what-you-want prices and license keys."""

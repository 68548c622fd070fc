"""The WeCom calendar and schedule API: an async client, typed models, errors."""

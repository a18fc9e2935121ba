"""The JSON API (`/api/v1`): bearer tokens per member, an OpenAPI document built by apispec."""

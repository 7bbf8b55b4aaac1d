-- API tokens may expire (issue 18 item 9): ``expires_at`` is the first moment at which the token
-- is refused (401), NULL for a token that does not expire. Tokens issued before keep NULL.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;

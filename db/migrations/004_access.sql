-- Access bookkeeping shared by every worker process: sessions ended by logout, and wrong-credential counts
-- per client for the login throttle.
CREATE TABLE revoked_sessions (
    session_id  text PRIMARY KEY,
    expires_at  timestamptz NOT NULL            -- after this the session is expired anyway; the row can go
);

CREATE TABLE auth_failures (
    client        text PRIMARY KEY,             -- the client's address
    failures      integer NOT NULL,
    locked_until  timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

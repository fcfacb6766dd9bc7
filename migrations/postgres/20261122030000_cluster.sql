-- Several server processes on one PostgreSQL (see backend::realtime::bus).

-- Every committed batch of events, for the other nodes to read when the
-- NOTIFY that names it arrives, and to catch up from after losing the bus.
-- Kept for a few minutes.
CREATE TABLE bus_events (
    id          BIGSERIAL PRIMARY KEY,
    node_id     TEXT   NOT NULL,
    payload     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX bus_events_by_age ON bus_events (created_at);

-- The live nodes, each refreshing its heartbeat; a node whose heartbeat is
-- old has died, and the others clear its users' presence.
CREATE TABLE nodes (
    id            TEXT   PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);

-- Who has at least one connection on which node: a node that starts learns
-- here who is online elsewhere.
CREATE TABLE node_presence (
    node_id  TEXT   NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id),
    org_id   BIGINT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (node_id, user_id)
);

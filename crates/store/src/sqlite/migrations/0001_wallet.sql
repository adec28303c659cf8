-- Freewalker wallet schema for SQLite (the embedded default).
--
-- Conventions: times are Unix milliseconds (INTEGER); money is an integer count
-- of minor units (fen for CNY), never REAL; sensitive fields (document numbers,
-- mobiles, addresses) are sealed with the data key before they reach SQL and
-- their columns end in `_sealed`. The same schema exists for PostgreSQL in
-- `postgres/migrations`; the two are kept column for column alike.

-- Partner institutions and the public key each one signs with (§2, §8).
CREATE TABLE institutions (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    public_key_pem  TEXT NOT NULL,
    signature_type  TEXT NOT NULL CHECK (signature_type IN ('RSA', 'SM2')),
    notify_url      TEXT,
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Nonces seen per institution (§2). The primary key is the replay guard:
-- claiming is an insert that only succeeds if the pair is new or expired.
CREATE TABLE nonces (
    institution_id  TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (institution_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- Counters behind order numbers. Read and bumped inside the write transaction,
-- so a number is never handed out twice.
CREATE TABLE sequences (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sequences (name, value) VALUES ('user', 0), ('recharge', 0), ('withdraw', 0);

-- Foreign visitors as synced by institutions (§4.1, §4.2). One document is one
-- user per institution: `document_hash` is a keyed hash of (nationality,
-- id_type, id_no), so uniqueness holds without the number in clear.
CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    institution_id    TEXT NOT NULL REFERENCES institutions (id),
    out_user_id       TEXT NOT NULL,
    name              TEXT NOT NULL,
    nationality       TEXT NOT NULL,
    id_type           TEXT NOT NULL,
    id_no_sealed      TEXT NOT NULL,
    document_hash     TEXT NOT NULL,
    id_expiry_date    TEXT,
    birth_date        TEXT,
    gender            TEXT,
    mobile_sealed     TEXT,
    email             TEXT,
    kyc_verified_at   INTEGER,
    visa_type         TEXT,
    visa_expiry_date  TEXT,
    entry_date        TEXT,
    address_sealed    TEXT,
    occupation        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (institution_id, out_user_id),
    UNIQUE (institution_id, document_hash)
);

-- One CNY wallet account per user. `available` and `frozen` are a cache of the
-- journal (`freewalker ledger verify` recomputes them) and can never be
-- negative, here as well as in code. The recharge_* columns are the running
-- totals the §5 daily and yearly limits are checked against.
CREATE TABLE accounts (
    account_no           TEXT PRIMARY KEY,
    user_id              INTEGER NOT NULL UNIQUE REFERENCES users (id),
    institution_id       TEXT NOT NULL REFERENCES institutions (id),
    status               TEXT NOT NULL CHECK (status IN ('NORMAL', 'FROZEN', 'CLOSED')),
    kyc_level            TEXT NOT NULL CHECK (kyc_level IN ('L0', 'L1', 'L2')),
    currency             TEXT NOT NULL CHECK (currency = 'CNY'),
    available            INTEGER NOT NULL CHECK (available >= 0),
    frozen               INTEGER NOT NULL CHECK (frozen >= 0),
    recharge_day         INTEGER NOT NULL,
    recharge_day_total   INTEGER NOT NULL CHECK (recharge_day_total >= 0),
    recharge_year        INTEGER NOT NULL,
    recharge_year_total  INTEGER NOT NULL CHECK (recharge_year_total >= 0),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

-- The double-entry journal. An entry's postings sum to zero per currency
-- (asserted where entries are built, re-checked by `ledger verify`). Both tables
-- are append-only: the triggers refuse any change to what was written.
CREATE TABLE journal_entries (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    order_no    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX journal_entries_by_order ON journal_entries (order_no);

CREATE TABLE postings (
    entry_id  INTEGER NOT NULL REFERENCES journal_entries (id),
    leg       INTEGER NOT NULL,
    account   TEXT NOT NULL,
    currency  TEXT NOT NULL,
    amount    INTEGER NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (entry_id, leg)
) WITHOUT ROWID;

CREATE TRIGGER journal_entries_append_only_u BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END;
CREATE TRIGGER journal_entries_append_only_d BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END;
CREATE TRIGGER postings_append_only_u BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_append_only_d BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;

-- Recharges (§4.3). `(institution_id, out_order_no)` is the idempotency key (§7).
CREATE TABLE recharge_orders (
    order_no         TEXT PRIMARY KEY,
    institution_id   TEXT NOT NULL,
    out_order_no     TEXT NOT NULL,
    account_no       TEXT NOT NULL REFERENCES accounts (account_no),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    pay_amount       INTEGER,
    pay_currency     TEXT,
    pay_method       TEXT,
    remark           TEXT,
    status           TEXT NOT NULL CHECK (status = 'SUCCESS'),
    created_at       INTEGER NOT NULL,
    success_at       INTEGER NOT NULL,
    available_after  INTEGER NOT NULL,
    UNIQUE (institution_id, out_order_no)
);

-- Withdrawals (§4.5). The rate is locked into the order. `lease_until` is when
-- the payout worker that holds a PROCESSING order is presumed dead.
CREATE TABLE withdraw_orders (
    order_no         TEXT PRIMARY KEY,
    institution_id   TEXT NOT NULL,
    out_order_no     TEXT NOT NULL,
    account_no       TEXT NOT NULL REFERENCES accounts (account_no),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    target_currency  TEXT NOT NULL,
    target_amount    INTEGER NOT NULL CHECK (target_amount > 0),
    rate_micro       INTEGER NOT NULL CHECK (rate_micro > 0),
    rate_set_at      INTEGER NOT NULL,
    branch_no        TEXT NOT NULL,
    branch_name      TEXT NOT NULL,
    branch_address   TEXT NOT NULL,
    notify_url       TEXT,
    remark           TEXT,
    status           TEXT NOT NULL CHECK (status IN ('INIT', 'PROCESSING', 'SUCCESS', 'FAIL')),
    fail_reason      TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    success_at       INTEGER,
    lease_until      INTEGER,
    UNIQUE (institution_id, out_order_no)
);
CREATE INDEX withdraw_orders_open ON withdraw_orders (created_at)
    WHERE status IN ('INIT', 'PROCESSING');

-- Status only moves forward (§4.5), enforced by the database as well as the code.
CREATE TRIGGER withdraw_status_forward BEFORE UPDATE OF status ON withdraw_orders
WHEN NEW.status <> OLD.status AND NOT (
       (OLD.status = 'INIT' AND NEW.status = 'PROCESSING')
    OR (OLD.status = 'PROCESSING' AND NEW.status IN ('SUCCESS', 'FAIL')))
BEGIN SELECT RAISE(ABORT, 'withdraw order status only moves forward'); END;

-- The transactional outbox of withdraw result notifications (§4.8), written in
-- the transaction that makes the order final. One per (order, final status).
CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY,
    order_no         TEXT NOT NULL,
    institution_id   TEXT NOT NULL,
    order_status     TEXT NOT NULL,
    url              TEXT,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (order_no, order_status)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX notifications_by_status ON notifications (status, id);

-- Every delivery attempt, whatever its result, for operators.
CREATE TABLE notification_attempts (
    id                INTEGER PRIMARY KEY,
    notification_id   INTEGER NOT NULL REFERENCES notifications (id),
    attempt_no        INTEGER NOT NULL,
    url               TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    http_status       INTEGER,
    error             TEXT,
    response_excerpt  TEXT
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, id);

-- Selling rates, CNY per 100 units, in millionths; history kept, latest wins.
CREATE TABLE fx_rates (
    id          INTEGER PRIMARY KEY,
    currency    TEXT NOT NULL,
    rate_micro  INTEGER NOT NULL CHECK (rate_micro > 0),
    set_at      INTEGER NOT NULL
);
CREATE INDEX fx_rates_latest ON fx_rates (currency, id);

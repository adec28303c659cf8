-- Freewalker wallet schema for PostgreSQL (several wallet processes, one database).
--
-- Conventions: times are Unix milliseconds (BIGINT); money is an integer count
-- of minor units (fen for CNY), never NUMERIC or REAL; sensitive fields
-- (document numbers, mobiles, addresses) are sealed with the data key before
-- they reach SQL and their columns end in `_sealed`. The same schema exists for
-- SQLite in `sqlite/migrations`; the two are kept column for column alike, and
-- every integer here is BIGINT so both backends read rows through the same
-- conversions (`rows.rs`).
--
-- This file runs inside one transaction that holds an advisory lock (see
-- `postgres/mod.rs`), so several processes starting at once apply it once.

-- Partner institutions and the public key each one signs with (§2, §8).
CREATE TABLE institutions (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    public_key_pem  TEXT NOT NULL,
    signature_type  TEXT NOT NULL CHECK (signature_type IN ('RSA', 'SM2')),
    notify_url      TEXT,
    enabled         BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Nonces seen per institution (§2). The primary key is the replay guard:
-- claiming is an upsert that only writes a row if the pair is new or expired,
-- and a concurrent claim of the same pair by another process waits on the
-- index entry and then sees the winner's row, so a nonce is accepted once.
CREATE TABLE nonces (
    institution_id  TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (institution_id, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- Counters behind user ids and order numbers. Sequences (rather than SQLite's
-- `sequences` table) hand out values without locking, unique across every
-- process; a value taken by a transaction that rolls back is skipped, never
-- reused.
CREATE SEQUENCE user_seq AS BIGINT START WITH 1;
CREATE SEQUENCE recharge_seq AS BIGINT START WITH 1;
CREATE SEQUENCE withdraw_seq AS BIGINT START WITH 1;

-- Foreign visitors as synced by institutions (§4.1, §4.2). One document is one
-- user per institution: `document_hash` is a keyed hash of (nationality,
-- id_type, id_no), so uniqueness holds without the number in clear. `id` is a
-- value of `user_seq`, supplied by the wallet (the account number derives from it).
CREATE TABLE users (
    id                BIGINT PRIMARY KEY,
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
    kyc_verified_at   BIGINT,
    visa_type         TEXT,
    visa_expiry_date  TEXT,
    entry_date        TEXT,
    address_sealed    TEXT,
    occupation        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (institution_id, out_user_id),
    UNIQUE (institution_id, document_hash)
);

-- One CNY wallet account per user. `available` and `frozen` are a cache of the
-- journal (`freewalker ledger verify` recomputes them) and can never be
-- negative, here as well as in code. The recharge_* columns are the running
-- totals the §5 daily and yearly limits are checked against. A command that
-- moves money locks its account row first (`SELECT … FOR UPDATE`), which is
-- what serialises concurrent withdrawals across processes.
CREATE TABLE accounts (
    account_no           TEXT PRIMARY KEY,
    user_id              BIGINT NOT NULL UNIQUE REFERENCES users (id),
    institution_id       TEXT NOT NULL REFERENCES institutions (id),
    status               TEXT NOT NULL CHECK (status IN ('NORMAL', 'FROZEN', 'CLOSED')),
    kyc_level            TEXT NOT NULL CHECK (kyc_level IN ('L0', 'L1', 'L2')),
    currency             TEXT NOT NULL CHECK (currency = 'CNY'),
    available            BIGINT NOT NULL CHECK (available >= 0),
    frozen               BIGINT NOT NULL CHECK (frozen >= 0),
    recharge_day         BIGINT NOT NULL,
    recharge_day_total   BIGINT NOT NULL CHECK (recharge_day_total >= 0),
    recharge_year        BIGINT NOT NULL,
    recharge_year_total  BIGINT NOT NULL CHECK (recharge_year_total >= 0),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- The double-entry journal. An entry's postings sum to zero per currency
-- (asserted where entries are built, re-checked by `ledger verify`). Both tables
-- are append-only: the triggers refuse any change to what was written.
CREATE TABLE journal_entries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    order_no    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX journal_entries_by_order ON journal_entries (order_no);

CREATE TABLE postings (
    entry_id  BIGINT NOT NULL REFERENCES journal_entries (id),
    leg       BIGINT NOT NULL,
    account   TEXT NOT NULL,
    currency  TEXT NOT NULL,
    amount    BIGINT NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (entry_id, leg)
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
-- Row triggers catch UPDATE and DELETE; the statement triggers catch TRUNCATE,
-- which fires no row trigger.
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Recharges (§4.3). `(institution_id, out_order_no)` is the idempotency key (§7).
CREATE TABLE recharge_orders (
    order_no         TEXT PRIMARY KEY,
    institution_id   TEXT NOT NULL,
    out_order_no     TEXT NOT NULL,
    account_no       TEXT NOT NULL REFERENCES accounts (account_no),
    amount           BIGINT NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    pay_amount       BIGINT,
    pay_currency     TEXT,
    pay_method       TEXT,
    remark           TEXT,
    status           TEXT NOT NULL CHECK (status = 'SUCCESS'),
    created_at       BIGINT NOT NULL,
    success_at       BIGINT NOT NULL,
    available_after  BIGINT NOT NULL,
    UNIQUE (institution_id, out_order_no)
);

-- Withdrawals (§4.5). The rate is locked into the order. `lease_until` is when
-- the payout worker that holds a PROCESSING order is presumed dead.
CREATE TABLE withdraw_orders (
    order_no         TEXT PRIMARY KEY,
    institution_id   TEXT NOT NULL,
    out_order_no     TEXT NOT NULL,
    account_no       TEXT NOT NULL REFERENCES accounts (account_no),
    amount           BIGINT NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    target_currency  TEXT NOT NULL,
    target_amount    BIGINT NOT NULL CHECK (target_amount > 0),
    rate_micro       BIGINT NOT NULL CHECK (rate_micro > 0),
    rate_set_at      BIGINT NOT NULL,
    branch_no        TEXT NOT NULL,
    branch_name      TEXT NOT NULL,
    branch_address   TEXT NOT NULL,
    notify_url       TEXT,
    remark           TEXT,
    status           TEXT NOT NULL CHECK (status IN ('INIT', 'PROCESSING', 'SUCCESS', 'FAIL')),
    fail_reason      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    success_at       BIGINT,
    lease_until      BIGINT,
    UNIQUE (institution_id, out_order_no)
);
-- Due payout work: the payout worker scans only the open orders.
CREATE INDEX withdraw_orders_open ON withdraw_orders (created_at)
    WHERE status IN ('INIT', 'PROCESSING');

-- Status only moves forward (§4.5), enforced by the database as well as the code.
CREATE FUNCTION withdraw_status_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'withdraw order % status only moves forward (% -> %)',
        OLD.order_no, OLD.status, NEW.status;
END;
$$;
CREATE TRIGGER withdraw_status_forward BEFORE UPDATE OF status ON withdraw_orders
    FOR EACH ROW
    WHEN (NEW.status <> OLD.status AND NOT (
           (OLD.status = 'INIT' AND NEW.status = 'PROCESSING')
        OR (OLD.status = 'PROCESSING' AND NEW.status IN ('SUCCESS', 'FAIL'))))
    EXECUTE FUNCTION withdraw_status_forward();

-- The transactional outbox of withdraw result notifications (§4.8), written in
-- the transaction that makes the order final. One per (order, final status).
CREATE TABLE notifications (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_no         TEXT NOT NULL,
    institution_id   TEXT NOT NULL,
    order_status     TEXT NOT NULL,
    url              TEXT,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    UNIQUE (order_no, order_status)
);
-- Due delivery work: the notification worker scans only the pending rows.
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX notifications_by_status ON notifications (status, id);

-- Every delivery attempt, whatever its result, for operators.
CREATE TABLE notification_attempts (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id   BIGINT NOT NULL REFERENCES notifications (id),
    attempt_no        BIGINT NOT NULL,
    url               TEXT NOT NULL,
    started_at        BIGINT NOT NULL,
    duration_ms       BIGINT NOT NULL,
    http_status       BIGINT,
    error             TEXT,
    response_excerpt  TEXT
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, id);

-- Selling rates, CNY per 100 units, in millionths; history kept, latest wins.
CREATE TABLE fx_rates (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    currency    TEXT NOT NULL,
    rate_micro  BIGINT NOT NULL CHECK (rate_micro > 0),
    set_at      BIGINT NOT NULL
);
CREATE INDEX fx_rates_latest ON fx_rates (currency, id);

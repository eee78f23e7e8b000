"""Search of the case list (issue 19): a case by any part of its number on (seq, year), of any
centre and abbreviation; a party by mobile (ix_party_phone), by the start of its name with its
case read from the index (ix_party_name gains case_id), and by a name anywhere in it through
trigrams: on PostgreSQL a pg_trgm GIN index on party.name, on SQLite the FTS5 table
party_name_search (trigram tokenizer, contentless: each name followed by \\x03 under the party's
id, so that the last two characters of a name are a trigram too), kept by triggers on party.

Both trigram structures are made here only, for their engine, and left out of the models
(mediation.database.include_name). On SQLite a later migration that recreates the party table
(batch mode, "move and copy") drops the triggers with it and must create them again
(create_triggers below).

Revision ID: 06821d7ef23e
Revises: 01c06f18b42d
Create Date: 2026-12-06 22:05:00

"""

from alembic import op

revision = "06821d7ef23e"
down_revision = "01c06f18b42d"
branch_labels = None
depends_on = None

# A name's FTS5 text: the name and an end mark (mediation.cases.search.END).
TEXT = "{0}.name || char(3)"


def upgrade():
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_seq_year", ["seq", "year"], unique=False)
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.drop_index("ix_party_name")
        batch_op.create_index(
            "ix_party_name",
            ["name", "case_id"],
            unique=False,
            postgresql_ops={"name": "text_pattern_ops"},
        )
        batch_op.create_index("ix_party_phone", ["phone"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_party_name_trgm ON party USING gin (name gin_trgm_ops)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE party_name_search USING fts5("
            "name, content='', tokenize='trigram case_sensitive 1')"
        )
        op.execute(
            f"INSERT INTO party_name_search (rowid, name) SELECT id, {TEXT.format('party')} "
            "FROM party"
        )
        create_triggers()


def create_triggers():
    """The triggers that keep party_name_search in step with party's names."""
    new, old = TEXT.format("new"), TEXT.format("old")
    insert = f"INSERT INTO party_name_search (rowid, name) VALUES (new.id, {new});"
    delete = (
        "INSERT INTO party_name_search (party_name_search, rowid, name) "
        f"VALUES ('delete', old.id, {old});"
    )
    op.execute(f"CREATE TRIGGER party_name_search_insert AFTER INSERT ON party BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER party_name_search_delete AFTER DELETE ON party BEGIN {delete} END")
    op.execute(
        "CREATE TRIGGER party_name_search_update AFTER UPDATE OF name ON party "
        f"BEGIN {delete} {insert} END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The extension stays: something else in the database may use it.
        op.execute("DROP INDEX ix_party_name_trgm")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER party_name_search_{trigger}")
        op.execute("DROP TABLE party_name_search")
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.drop_index("ix_party_phone")
        batch_op.drop_index("ix_party_name")
        batch_op.create_index(
            "ix_party_name", ["name"], unique=False, postgresql_ops={"name": "text_pattern_ops"}
        )
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_seq_year")

"""Work-log notes in the database too: on PostgreSQL a trigger refuses every DELETE, any UPDATE of an
annotation, and any UPDATE of a note whose day is over in the city's time zone (Asia/Shanghai), whoever
asks (admin, shell, a bug). Only the author's same-day edit of a note goes through (the service)."""

from django.db import migrations

from ruian_grid.db import on_postgres

CREATE = """
CREATE OR REPLACE FUNCTION teams_worklognote_closed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.kind = 'annotation'
       OR OLD.day < (now() AT TIME ZONE 'Asia/Shanghai')::date
       OR NEW.day <> OLD.day OR NEW.kind <> OLD.kind OR NEW.author_id <> OLD.author_id THEN
        RAISE EXCEPTION USING
            MESSAGE = 'the work log is append-only once a day is closed: ' || TG_OP
                      || ' refused on teams_worklognote',
            ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS teams_worklognote_closed ON teams_worklognote;
CREATE TRIGGER teams_worklognote_closed BEFORE UPDATE OR DELETE ON teams_worklognote
    FOR EACH ROW EXECUTE FUNCTION teams_worklognote_closed();
"""
DROP = """
DROP TRIGGER IF EXISTS teams_worklognote_closed ON teams_worklognote;
DROP FUNCTION IF EXISTS teams_worklognote_closed();
"""


class Migration(migrations.Migration):
    dependencies = [("teams", "0006_pairings_and_work_log")]

    operations = [migrations.RunPython(on_postgres(CREATE), on_postgres(DROP))]

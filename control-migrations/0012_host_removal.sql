-- A db host with no tenant left can be removed (issue 9). Its row stays, marked removed, so
-- the history that names it (purged tenants, backups, moves) keeps its references; its
-- sealed admin password is erased.
alter table db_hosts drop constraint db_hosts_status_check;
alter table db_hosts add constraint db_hosts_status_check check (status in ('active', 'draining', 'removed'));
alter table db_hosts add column removed_at timestamptz;
-- A removed host's name may be registered again.
alter table db_hosts drop constraint db_hosts_name_key;
create unique index db_hosts_name_live on db_hosts (name) where status <> 'removed';

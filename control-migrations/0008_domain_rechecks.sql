-- Verified custom domains are checked again periodically (issue 7): a domain that stopped
-- pointing at this edge for several checks in a row goes back to pending and stops routing.
alter table tenant_domains
  add column failed_checks integer not null default 0;
create index tenant_domains_recheck on tenant_domains (last_checked_at) where status = 'verified';

-- Master key rotation (issue 9). A backup file's data key is sealed in the file's header,
-- and the header is the associated data of every record: re-sealing it in place would mean
-- re-encrypting the whole file. So the catalog keeps its own copy of the sealed data key,
-- written at backup time and re-sealed by `tenantctl keys rotate`; the reader opens
-- whichever copy the keyring can (docs/decisions.md "Key rotation"). Null for backups
-- taken before this migration until a rotation reads their header.
alter table backups add column data_key_sealed text;

-- Nightscout followers read patient data: every read is in the audit trail with the follower as
-- actor (Patientdatalagen 4:3: every electronic access is logged).
alter table audit_events add column actor_follower uuid;
alter table audit_events drop constraint audit_events_actor_kind_check;
alter table audit_events add constraint audit_events_actor_kind_check
  check (actor_kind in ('user', 'device', 'system', 'api_client', 'follower'));

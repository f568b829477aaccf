-- The consensus's pregnancy profile (type 1: 3.5-7.8 mmol/L over 70 %) beside standard and
-- older/high-risk (core/src/domain/targets.ts).
alter table patients drop constraint patients_target_profile_check;
alter table patients add constraint patients_target_profile_check
  check (target_profile in ('standard', 'older_high_risk', 'pregnancy'));

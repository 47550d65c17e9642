export { FakeOkta, oktaError, GROUPS_LIMITS, GROUP_MEMBERS_LIMITS, USERS_LIMITS, type FakeOktaOptions } from './okta-fake.js';
export {
  OktaDirectory,
  SEEDED_AT,
  oktaId,
  seedLargeDirectory,
  type OktaGroup,
  type OktaUser,
  type OktaGroupType,
  type OktaUserStatus,
} from './directory.js';

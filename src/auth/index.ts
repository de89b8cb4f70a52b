export {
  API_KEY_PREFIX,
  ApiKeyService,
  canAccessNumber,
  hashApiKey,
  toApiKeyView,
  type ApiKeyView,
  type ApiPrincipal,
} from './api-keys.ts';
export { ADMIN_TOKEN_FILE, ensureAdminToken, readAdminTokenFile } from './admin-token.ts';

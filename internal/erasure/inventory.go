package erasure

// Class is what a column holds, for erasure and retention (O-3).
type Class string

// The classes of the data inventory.
const (
	// None: configuration, counters, states, times — nothing about a person.
	None Class = "none"
	// ID: an internal identifier (UUID, key ID) or a foreign key to one.
	ID Class = "id"
	// PII: personal data about a person (contact or member): names,
	// platform IDs, e-mail, phone digests, IP addresses. Sealed under the
	// contact key where the column says so.
	PII Class = "pii"
	// Content: what people wrote or did: message bodies, notes, activity,
	// flow variables, raw webhook payloads, CSV files. Always sealed.
	Content Class = "content"
	// Secret: credentials and keys: tokens, password hashes, TOTP seeds,
	// wrapped keys.
	Secret Class = "secret"
	// Operational: bookkeeping that may hint at a person without naming
	// them (deduplication hashes, job payloads of IDs, error texts).
	Operational Class = "operational"
)

// Erasure says how a table's rows go.
type Erasure struct {
	// Contact: EraseContact deletes the rows of the erased contact
	// (ContactTables, or a registered hook named in Note).
	Contact bool
	// Workspace: the rows go with their workspace (ON DELETE CASCADE or
	// the workspace purge), and are unreadable at once when its keys are
	// destroyed where sealed.
	Workspace bool
	// User: the rows go with the user's account.
	User bool
	// Retention: the data class of the retention job that deletes old
	// rows (P-35), "" when none applies.
	Retention string
	// Note says what the flags cannot: why a table is kept, how sealed
	// columns are keyed.
	Note string
}

// Table is one table of the inventory: how its rows are erased and the
// class of each of its columns.
type Table struct {
	Name    string
	Erasure Erasure
	Columns map[string]Class
}

// Retention data classes named in the inventory: the values of package
// retention's Class (not imported, to keep this package below it).
const (
	RetentionMessages = "message_content"
	RetentionPayloads = "raw_payloads"
	RetentionOps      = "operational_logs"
	RetentionAudit    = "audit_log"
	RetentionExports  = "exports"
	RetentionMedia    = "attachments"
)

// Inventory returns the data inventory: every table and column of the
// schema (both dialects have the same), classified. The inventory test
// fails when a column exists that it does not list, or it lists one that
// does not exist. Tables added by other issue-6 parts are added by the
// lead from their owners' reports.
func Inventory() []Table {
	ws := Erasure{Workspace: true}
	wsUser := Erasure{Workspace: true, User: true}
	contact := Erasure{Contact: true, Workspace: true}
	return []Table{
		// Accounts (00001).
		{"users", Erasure{User: true, Note: "totp_secret sealed with the platform key; deleted with the account"}, map[string]Class{
			"id": ID, "email": PII, "email_key": PII, "name": PII, "password_hash": Secret, "age_confirmed_at": None,
			"totp_secret": Secret, "totp_enabled": None, "totp_last_step": None, "is_platform_admin": None,
			"password_changed_at": None, "created_at": None, "updated_at": None}},
		{"sessions", Erasure{User: true, Retention: RetentionOps}, map[string]Class{
			"id": Secret, "user_id": ID, "created_at": None, "expires_at": None, "last_seen_at": None, "revoked_at": None}},
		{"recovery_codes", Erasure{User: true}, map[string]Class{
			"user_id": ID, "code_hash": Secret, "created_at": None, "used_at": None}},
		// Workspaces (00002).
		{"workspaces", ws, map[string]Class{
			"id": ID, "name": None, "plan": None, "trial_ends_at": None, "created_at": None, "updated_at": None, "time_zone": None,
			"deletion_requested_at": None, "purge_at": None, "purge_started_at": None}},
		{"members", wsUser, map[string]Class{
			"workspace_id": ID, "user_id": ID, "role": None, "created_at": None, "updated_at": None}},
		{"invitations", Erasure{Workspace: true, Retention: RetentionOps}, map[string]Class{
			"id": ID, "workspace_id": ID, "email": PII, "email_key": PII, "role": None, "token_hash": Secret,
			"invited_by": ID, "created_at": None, "expires_at": None, "accepted_at": None, "revoked_at": None}},
		{"api_keys", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "name": None, "prefix": Operational, "key_hash": Secret, "role": None,
			"created_by": ID, "created_at": None, "last_used_at": None, "revoked_at": None, "scopes": None}},
		{"audit_log", Erasure{Retention: RetentionAudit,
			Note: "kept (append-only, 12 months): IDs only; an erased contact's entries name it by its ID, which nothing maps to a person any more, and the erasure entry by its HMAC subject"},
			map[string]Class{
				"id": ID, "workspace_id": ID, "actor_user_id": ID, "actor_api_key_id": ID, "impersonator_id": ID,
				"action": None, "target_type": None, "target_id": ID, "ip": PII, "request_id": Operational,
				"details": Operational, "created_at": None}},
		// Keys (00003).
		{"workspace_keys", Erasure{Workspace: true, Note: "destroyed with the workspace (crypto-shredding)"}, map[string]Class{
			"workspace_id": ID, "key_id": ID, "wrapped": Secret, "is_primary": None, "created_at": None}},
		{"contact_keys", Erasure{Contact: true, Workspace: true, Note: "destroyed with the contact (keyring.DestroyContactKey): every copy of what was sealed for it stops opening"},
			map[string]Class{"workspace_id": ID, "contact_id": ID, "key_id": ID, "wrapped_by": ID, "wrapped": Secret, "created_at": None}},
		// Jobs (00004).
		{"jobs", Erasure{Contact: true, Workspace: true, Note: "jobs whose payload or keys name the contact, its conversations or messages are deleted"},
			map[string]Class{
				"id": ID, "kind": None, "payload": Operational, "ordering_key": Operational, "unique_key": Operational,
				"state": None, "attempts": None, "run_at": None, "locked_by": Operational, "locked_until": None,
				"last_error": Operational, "created_at": None, "updated_at": None}},
		{"job_periodic", Erasure{}, map[string]Class{"name": None, "last_slot": None}},
		// Channels (00005).
		{"channels", Erasure{Workspace: true, Note: "token sealed under the workspace key, destroyed at disconnect"}, map[string]Class{
			"id": ID, "workspace_id": ID, "type": None, "external_id": ID, "name": None, "token": Secret,
			"token_state": None, "status": None, "auto_reply": None, "profile": None, "last_event_at": None,
			"last_error": Operational, "last_error_at": None, "connected_by": ID, "created_at": None, "updated_at": None,
			"disconnected_at": None}},
		{"channel_logins", Erasure{Workspace: true, Retention: RetentionOps}, map[string]Class{
			"id": ID, "workspace_id": ID, "user_id": ID, "user_token": Secret, "created_at": None, "expires_at": None}},
		{"unknown_accounts", Erasure{Retention: RetentionOps, Note: "Page and account IDs of businesses, not people"}, map[string]Class{
			"object": None, "external_id": ID, "events": None, "first_seen_at": None, "last_seen_at": None}},
		// Contacts (00006, 00013, 00024).
		{"contacts", Erasure{Contact: true, Workspace: true, Note: "names and picture sealed under the contact key"}, map[string]Class{
			"id": ID, "workspace_id": ID, "channel_id": ID, "external_id": PII, "first_name": PII, "last_name": PII,
			"profile_pic": PII, "locale": PII, "profile_state": None, "profile_fetched_at": None, "created_at": None,
			"updated_at": None, "stage": None, "stage_by": ID, "stage_updated_at": None, "subscribed": PII,
			"subscribed_at": PII, "unsubscribed_at": PII, "subscription_by": ID, "created_by": ID}},
		{"contact_identities", contact, map[string]Class{
			"workspace_id": ID, "contact_id": ID, "channel_id": ID, "external_id": PII, "created_at": None}},
		// Inbox (00007, 00015, 00017).
		{"conversations", Erasure{Contact: true, Workspace: true, Retention: RetentionMessages}, map[string]Class{
			"id": ID, "workspace_id": ID, "channel_id": ID, "contact_id": ID, "owner": None, "assignee_id": ID,
			"last_activity_at": None, "last_inbound_at": None, "interaction_count": None, "unreachable_at": None,
			"created_at": None, "updated_at": None, "delivered_upto": None, "read_upto": None, "status": None,
			"snoozed_until": None, "team_id": ID, "agent_last_seen_at": None, "seen_sent_upto": None, "human_at": None}},
		{"messages", Erasure{Contact: true, Workspace: true, Retention: RetentionMessages, Note: "body sealed under the contact key"}, map[string]Class{
			"id": ID, "workspace_id": ID, "channel_id": ID, "conversation_id": ID, "contact_id": ID, "direction": None,
			"kind": None, "body": Content, "sender_type": None, "sender_id": ID, "external_id": Operational,
			"reply_to": Operational, "status": None, "messaging_type": None, "tag": None, "error_code": None,
			"error_message": Operational, "platform_at": None, "sent_at": None, "delivered_at": None, "read_at": None,
			"created_at": None, "updated_at": None}},
		{"inbound_keys", Erasure{Contact: true, Workspace: true, Retention: RetentionOps,
			Note: "SHA-256 of an event's identifying fields, naming its contact (00034): deleted with the contact; older keys without one expire with retention"},
			map[string]Class{"channel_id": ID, "key": Operational, "contact_id": ID, "created_at": None}},
		// Webhooks (00008).
		{"webhook_deliveries", Erasure{Contact: true, Retention: RetentionPayloads,
			Note: "body sealed with the platform key: the erased contact's events are removed from stored deliveries (scrubDeliveries)"},
			map[string]Class{"id": ID, "source": None, "body": Content, "state": None, "error": Operational, "received_at": None, "held_for": ID}},
		// CRM (00009).
		{"contact_fields", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "key": None, "label": None, "type": None, "choices": None,
			"created_at": None, "updated_at": None, "archived_at": None}},
		{"contact_field_values", Erasure{Contact: true, Workspace: true, Note: "value sealed under the contact key"}, map[string]Class{
			"contact_id": ID, "field_id": ID, "workspace_id": ID, "value": PII, "updated_by": ID, "updated_at": None}},
		{"tags", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "name": None, "name_key": None, "color": None, "created_at": None, "updated_at": None}},
		{"contact_tags", contact, map[string]Class{
			"contact_id": ID, "tag_id": ID, "workspace_id": ID, "created_by": ID, "created_at": None}},
		// Flows (00011, 00012).
		{"flows", Erasure{Workspace: true, Note: "documents sealed under the workspace key"}, map[string]Class{
			"id": ID, "workspace_id": ID, "name": None, "status": None, "draft": None, "draft_rev": None,
			"draft_updated_at": None, "published_version": None, "published_rev": None, "published_at": None,
			"created_by": ID, "created_at": None, "updated_at": None, "archived_at": None}},
		{"flow_versions", ws, map[string]Class{
			"flow_id": ID, "version": None, "workspace_id": ID, "document": None, "published_at": None, "published_by": ID}},
		{"flow_revisions", ws, map[string]Class{"workspace_id": ID, "revision": None}},
		{"flow_sessions", Erasure{Contact: true, Workspace: true, Note: "vars sealed under the contact key"}, map[string]Class{
			"conversation_id": ID, "workspace_id": ID, "contact_id": ID, "flow_id": ID, "version": None, "node_id": None,
			"status": None, "vars": Content, "attempts": None, "token": None, "deadline": None, "last_default_at": None,
			"started_at": None, "updated_at": None}},
		{"flow_node_stats", Erasure{Workspace: true, Note: "aggregated counts, de-identified"}, map[string]Class{
			"workspace_id": ID, "flow_id": ID, "version": None, "node_id": None, "shard": None, "entered": None,
			"completed": None, "dropped": None}},
		{"flow_errors", Erasure{Workspace: true, Retention: RetentionOps}, map[string]Class{
			"id": ID, "workspace_id": ID, "flow_id": ID, "version": None, "node_id": None, "message": Operational, "at": None}},
		// Inbox states, timeline (00017, 00018).
		{"inbox_settings", ws, map[string]Class{"workspace_id": ID, "return_to_bot_after_seconds": None, "updated_at": None}},
		{"conversation_events", Erasure{Contact: true, Workspace: true, Note: "note sealed under the contact key"}, map[string]Class{
			"id": ID, "workspace_id": ID, "conversation_id": ID, "contact_id": ID, "kind": None, "actor": ID,
			"data": Operational, "note": Content, "edited_at": None, "created_at": None}},
		{"conversation_mentions", contact, map[string]Class{
			"workspace_id": ID, "event_id": ID, "user_id": ID, "conversation_id": ID, "created_at": None, "read_at": None}},
		{"canned_responses", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "shortcut": None, "title": None, "title_key": None, "body": None,
			"created_by": ID, "created_at": None, "updated_at": None}},
		// Teams (00019).
		{"teams", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "name": None, "name_key": None, "description": None, "auto_assign": None,
			"created_at": None, "updated_at": None}},
		{"team_members", wsUser, map[string]Class{"workspace_id": ID, "team_id": ID, "user_id": ID, "created_at": None}},
		{"team_settings", ws, map[string]Class{
			"workspace_id": ID, "default_capacity": None, "auto_assign": None, "assign_seq": None, "updated_at": None}},
		{"agent_availability", wsUser, map[string]Class{
			"workspace_id": ID, "user_id": ID, "status": None, "capacity": None, "last_seen_at": None,
			"last_assigned_at": None, "assign_seq": None, "updated_at": None}},
		// Search (00020).
		{"search_docs", contact, map[string]Class{
			"id": ID, "workspace_id": ID, "contact_id": ID, "conversation_id": ID, "message_id": ID}},
		{"search_grams", Erasure{Contact: true, Workspace: true, Note: "blind-index digests of text grams, deleted with their document"}, map[string]Class{
			"gram": Operational, "doc": ID}},
		{"search_cursors", Erasure{Contact: true, Note: "the ID of an erased contact or message is cleared from a cursor (resetCursors)"},
			map[string]Class{"feed": None, "at": None, "ref": ID}},
		{"search_pending", contact, map[string]Class{"workspace_id": ID, "contact_id": ID, "queued_at": None}},
		// Activity and pipelines (00021).
		{"contact_activity", Erasure{Contact: true, Workspace: true, Note: "data sealed under the contact key"}, map[string]Class{
			"id": ID, "workspace_id": ID, "contact_id": ID, "kind": None, "actor": ID, "data": Content,
			"created_at": None, "edited_at": None}},
		{"pipelines", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "name": None, "name_key": None, "position": None, "is_default": None,
			"created_at": None, "updated_at": None}},
		{"pipeline_stages", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "pipeline_id": ID, "name": None, "name_key": None, "position": None,
			"color": None, "outcome": None, "created_at": None, "updated_at": None}},
		{"pipeline_cards", contact, map[string]Class{
			"workspace_id": ID, "pipeline_id": ID, "contact_id": ID, "stage_id": ID, "position": None,
			"moved_at": None, "moved_by": ID}},
		// Segments and imports (00022).
		{"segments", ws, map[string]Class{
			"id": ID, "workspace_id": ID, "name": None, "name_key": None, "definition": None, "created_by": ID,
			"updated_by": ID, "created_at": None, "updated_at": None}},
		{"contact_imports", Erasure{Workspace: true, Retention: RetentionExports, Note: "file sealed under the workspace key, cleared when the import finishes"},
			map[string]Class{
				"id": ID, "workspace_id": ID, "state": None, "file": Content, "options": None, "total_rows": None,
				"done_rows": None, "created_rows": None, "updated_rows": None, "failed_rows": None, "error": Operational,
				"created_by": ID, "created_at": None, "updated_at": None, "finished_at": None}},
		{"contact_import_errors", Erasure{Workspace: true, Retention: RetentionExports, Note: "row_data sealed under the workspace key: refused rows, which created no contact"},
			map[string]Class{"import_id": ID, "workspace_id": ID, "row_no": None, "col": None, "message": Operational, "row_data": PII}},
		// Call logs (00023).
		{"contact_phones", Erasure{Contact: true, Workspace: true, Note: "HMAC digest of the phone number under the workspace blind-index key"}, map[string]Class{
			"workspace_id": ID, "contact_id": ID, "field_id": ID, "digest": PII}},
		{"call_log_seen", contact, map[string]Class{"workspace_id": ID, "contact_id": ID, "call_key": Operational, "created_at": None}},
		// Meta callbacks (00026).
		{"meta_identities", Erasure{Contact: true, Workspace: true, User: true,
			Note: "contact rows cascade with the contact, channel rows with the channel or the member; ASIDs only as HMACs"},
			map[string]Class{"id": ID, "asid_hash": PII, "workspace_id": ID, "channel_id": ID, "contact_id": ID, "user_id": ID,
				"source": None, "created_at": None}},
		{"meta_deletion_requests", Erasure{Retention: RetentionOps, Note: "the record of a deletion request: hashes and counts only"},
			map[string]Class{"id": ID, "code_hash": Secret, "asid_hash": PII, "source": None, "state": None,
				"channels_disconnected": None, "contacts_erased": None, "created_at": None, "updated_at": None, "completed_at": None}},
		// Kill switch and operator console (00027).
		{"kill_switches", Erasure{Note: "operator state; history in the audit log"}, map[string]Class{
			"workspace_id": ID, "outbound": None, "processing": None, "reason": Operational, "paused_by": ID, "paused_at": None}},
		{"impersonations", Erasure{User: true, Retention: RetentionOps}, map[string]Class{
			"id": ID, "admin_session_id": Secret, "admin_user_id": ID, "user_id": ID, "reason": Operational,
			"started_at": None, "ended_at": None}},
		// Retention (00028).
		{"retention_settings", ws, map[string]Class{
			"workspace_id": ID, "class": None, "days": None, "updated_by": ID, "updated_at": None}},
		{"retention_holds", Erasure{Contact: true, Workspace: true, Note: "a contact's hold cascades with the contact: erasure wins over a hold"},
			map[string]Class{"id": ID, "workspace_id": ID, "contact_id": ID, "reason": Operational, "created_by": ID, "created_at": None}},
		// Data-subject requests (00029).
		{"contact_privacy", Erasure{Contact: true, Workspace: true, Note: "cascades with the contact"}, map[string]Class{
			"workspace_id": ID, "contact_id": ID, "restricted": PII, "objected": PII, "minor": PII, "updated_by": ID, "updated_at": None}},
		{"contact_consents", Erasure{Contact: true, Workspace: true, Note: "deleted by the dsr hook (and cascade)"}, map[string]Class{
			"id": ID, "workspace_id": ID, "contact_id": ID, "channel_id": ID, "state": PII, "source": None, "actor": ID, "at": None}},
		{"dsr_requests", Erasure{Contact: true, Workspace: true, Retention: RetentionAudit,
			Note: "kept as the record of the request; the dsr hook unlinks the contact (contact_id NULL) and clears reason"},
			map[string]Class{"id": ID, "workspace_id": ID, "contact_id": ID, "kind": None, "state": None, "received_at": None,
				"acknowledge_by": None, "complete_by": None, "acknowledged_at": None, "closed_at": None, "reason": PII,
				"created_by": ID, "created_at": None, "updated_at": None}},
		{"dsr_exports", Erasure{Contact: true, Workspace: true, Retention: RetentionExports, Note: "archive sealed under the contact key; deleted by the dsr hook"},
			map[string]Class{"id": ID, "workspace_id": ID, "contact_id": ID, "request_id": ID, "state": None, "steps_done": None,
				"steps_total": None, "archive": Content, "size_bytes": None, "error": Operational, "downloads": None,
				"created_by": ID, "created_at": None, "updated_at": None, "finished_at": None, "expires_at": None}},
		// Media (00031).
		{"media_objects", Erasure{Contact: true, Workspace: true, Retention: RetentionMedia,
			Note: "rows deleted by the media hook, files unlinked after commit; sealed under the contact key"},
			map[string]Class{"id": ID, "workspace_id": ID, "contact_id": ID, "conversation_id": ID, "message_id": ID, "kind": None,
				"content_type": None, "size_bytes": None, "name": Content, "storage_key": Operational, "created_by": ID, "created_at": None}},
		// Erasure (00025).
		{"tombstones", Erasure{Note: "kept on purpose, outside the backups too: HMAC subjects only (replayed on restore)"}, map[string]Class{
			"id": ID, "kind": None, "workspace_id": ID, "subject": Operational, "created_at": None}},
	}
}

"""action_id and callback_id values, shared by templates (via the `ids` global) and listener registration."""

# Slash commands
ACCESS_COMMAND = "/access"
DIRECTIVE_COMMAND = "/directive"
LICENCE_COMMAND = "/licence"

# Global shortcut
REQUEST_SHORTCUT = "request_model_access"

# Request modal
REQUEST_VIEW = "access_request_modal"
REQUEST_MODEL_BLOCK = "model"
REQUEST_MODEL_ACTION = "model_select"
REQUEST_DURATION_BLOCK = "duration"
REQUEST_DURATION_ACTION = "duration_select"
REQUEST_JUSTIFICATION_BLOCK = "justification"
REQUEST_JUSTIFICATION_ACTION = "justification_input"

# Approval message buttons; value is "<request_id>:<step position>" (re-checked on the server)
APPROVE_ACTION = "approval_approve"
DENY_ACTION = "approval_deny"

# Extend: the button on an expiry warning and in App Home (value: the grant id, re-checked on the server),
# and its form (private_metadata: the grant id)
EXTEND_ACTION = "grant_extend"
EXTEND_VIEW = "grant_extend_modal"
EXTEND_DURATION_BLOCK = "extend_duration"
EXTEND_DURATION_ACTION = "extend_duration_select"
EXTEND_REASON_BLOCK = "extend_reason"
EXTEND_REASON_ACTION = "extend_reason_input"

# App Home's End on a delegation (value: the delegation id, re-checked on the server)
DELEGATION_END_ACTION = "delegation_end"

# Break-glass review (access admins): Keep, and Revoke… with its reason form (value and private_metadata:
# the use's id, re-checked on the server)
BREAK_GLASS_KEEP_ACTION = "break_glass_keep"
BREAK_GLASS_REVOKE_ACTION = "break_glass_revoke"
BREAK_GLASS_REVOKE_VIEW = "break_glass_revoke_modal"

# Deny-reason modal
DENY_VIEW = "approval_deny_modal"
DENY_REASON_BLOCK = "reason"
DENY_REASON_ACTION = "reason_input"

# App Home buttons
HOME_REQUEST_ACTION = "home_request_access"
HOME_CANCEL_ACTION = "home_cancel_request"
HOME_RELINQUISH_ACTION = "home_relinquish_grant"

# Directive modal (access admins)
DIRECTIVE_VIEW = "directive_modal"
DIRECTIVE_CONFIRM_VIEW = "directive_confirm"
DIRECTIVE_TITLE_BLOCK = "d_title"
DIRECTIVE_AUTHORITY_BLOCK = "d_authority"
DIRECTIVE_REFERENCE_BLOCK = "d_reference"
DIRECTIVE_NOTICE_BLOCK = "d_notice"
DIRECTIVE_MODELS_BLOCK = "d_models"
DIRECTIVE_POPULATION_BLOCK = "d_population"
DIRECTIVE_COUNTRIES_BLOCK = "d_countries"
DIRECTIVE_USERS_BLOCK = "d_users"
DIRECTIVE_ACTION_BLOCK = "d_action"
DIRECTIVE_EFFECTIVE_BLOCK = "d_effective"
# Each directive input block holds one element whose action_id is the block_id plus "_input".
INPUT_SUFFIX = "_input"
# The directive form's model multi-select (static or external, by catalog size).
DIRECTIVE_MODELS_ACTION = DIRECTIVE_MODELS_BLOCK + INPUT_SUFFIX

# Licence modal (export compliance and access admins). Each input block holds one element whose
# action_id is the block_id plus INPUT_SUFFIX, as in the directive form.
LICENCE_VIEW = "licence_modal"
LICENCE_NUMBER_BLOCK = "l_number"
LICENCE_AUTHORITY_BLOCK = "l_authority"
LICENCE_KIND_BLOCK = "l_kind"
LICENCE_HOLDER_BLOCK = "l_holder"
LICENCE_MODELS_BLOCK = "l_models"
LICENCE_COUNTRIES_BLOCK = "l_countries"
LICENCE_VALID_FROM_BLOCK = "l_valid_from"
LICENCE_VALID_UNTIL_BLOCK = "l_valid_until"
LICENCE_CONDITIONS_BLOCK = "l_conditions"
# The licence form's model multi-select (static or external, by catalog size).
LICENCE_MODELS_ACTION = LICENCE_MODELS_BLOCK + INPUT_SUFFIX

# Slack's Block Kit limits that shape the model pickers, shared by templates (via `ids`), the options
# listener and `accessbot workflows check`. Block Kit reference, "Select menu element" and "Option
# object" (docs.slack.dev/reference/block-kit/block-elements/select-menu-element,
# docs.slack.dev/reference/block-kit/composition-objects/option-object): a static select holds at most
# 100 options, and an external data source may answer at most 100; option text is at most 75
# characters and an option value at most 150.
SELECT_OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
# Characters typed before Slack asks for options. 0: the list loads as soon as the menu opens, so
# people can browse the first page before they know what to type.
MODEL_SEARCH_MIN_QUERY = 0

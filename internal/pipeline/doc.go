// Package pipeline owns sales pipelines and their board (promise P-25):
// a workspace's pipelines, each with ordered stages (the board's columns),
// and contacts' cards on them.
//
// # Storage
//
// Tables pipelines, pipeline_stages and pipeline_cards of migration 00021.
// Definitions (names, positions, colours, won/lost outcomes) are workspace
// configuration, in clear, and every change to them is audited by IDs. A
// card is (pipeline, contact) → stage plus its position inside the column;
// composite foreign keys make a card in another pipeline's stage, or one
// linking two workspaces, impossible, and deleting the contact or the
// pipeline deletes its cards. A stage with cards cannot be deleted (the
// foreign key refuses it too) unless its cards move to another stage.
//
// Positions are gapped integers (PositionStep apart): a move between two
// cards takes the midpoint, and only when two neighbours touch is the
// column renumbered. The board reads each column by keyset on (position,
// contact_id) over the index pipeline_cards_column, and counts it from the
// same index, so a column of a million cards costs one index range.
//
// # Moves are activity
//
// Every change of a card's stage — placing it, moving it to another
// column, removing it, or its stage being deleted under it — writes exactly
// one activity entry of kind "pipeline" on the contact (IDs and names of
// the pipeline and of the stages from and to; "" for none) in the same
// transaction. Reordering inside a column is not a change of stage and
// writes none.
//
// # The lead stage is the default pipeline
//
// Contacts have had a lead stage (contacts.stage, a free label flows set
// by name and the API patches) since before pipelines existed. The rule
// keeping the two coherent:
//
//   - A workspace has at most one default pipeline (the first one created,
//     or the one SetDefault names). Its stage names ARE the lead stages.
//   - Moving, placing or removing a card on the default pipeline sets the
//     contact's lead stage to the stage's name ("" when removed), through
//     contact.Store.SetStage in the same transaction. Renaming a stage of
//     the default pipeline relabels its contacts; deleting one with its
//     cards moved relabels them to the target stage.
//   - The other way round, whoever sets a lead stage (flows, PATCH
//     /contacts) calls Store.SyncStage in the same transaction: a stage
//     naming one of the default pipeline's stages (letter case ignored)
//     places or moves the contact's card there; any other label, or none,
//     takes the card off the default pipeline. So a contact has a card in
//     the default pipeline's stage S exactly when its lead stage is S.
//   - Other pipelines are independent boards; they never touch the lead
//     stage. A workspace without a default pipeline keeps free labels.
//   - Making another pipeline the default, or creating the first one, does
//     not place contacts whose labels already match (see Store.Reconcile
//     for that one-off pass).
//
// # Imports
//
// pipeline sits on the flow line: it imports contact (SetStage, CheckStage,
// Check, By), activity, audit, validate and db; nothing below it imports
// pipeline.
//
// # Tables of others
//
// contacts is read (never written but through contact.Store) to check
// that a contact is the workspace's and, in Reconcile, to find contacts by
// lead stage.
package pipeline

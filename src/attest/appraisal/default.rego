# confcom's default appraisal policy.
#
# Input:  {"claims": <every claim of the evidence, see src/attest/appraisal/types.ts>,
#          "reference": {"snp": {...}, "sgx": {...}}}   (reference values, hex in lower case)
# Output: data.confcom.appraisal.allow (true only when no deny reason holds)
#         data.confcom.appraisal.deny  (a set of human-readable reasons)
#
# What it asks by default: debugging off, no migration agent (SNP), a TCB not below the minimum, and,
# where reference lists are given, a launch measurement / HOST_DATA / MRENCLAVE / MRSIGNER from them.
# An empty list allows nothing. A custom policy must keep the same package and rule names.
package confcom.appraisal

default allow := false

allow if count(deny) == 0

# Azure vTPM evidence carries an SEV-SNP report: the SNP rules and reference values apply to it.
ref_kind := "snp" if input.claims.tee == "az-snp-vtpm"

ref_kind := input.claims.tee if input.claims.tee != "az-snp-vtpm"

refs := object.get(input, ["reference", ref_kind], {})

snp_claims := input.claims if input.claims.tee == "snp"

snp_claims := input.claims.snp if input.claims.tee == "az-snp-vtpm"

snp if snp_claims

sgx if input.claims.tee == "sgx"

# --- AMD SEV-SNP ---------------------------------------------------------------------------------

deny contains "debugging is allowed by the guest policy: the host can read and change guest memory" if {
	snp
	snp_claims.policy.debug == true
	not refs.allow_debug == true
}

deny contains "the guest policy allows a migration agent" if {
	snp
	snp_claims.policy.migration_agent == true
	not refs.allow_migration_agent == true
}

deny contains sprintf("launch measurement %s is not an expected measurement", [snp_claims.measurement]) if {
	snp
	is_array(refs.measurements)
	not snp_claims.measurement in refs.measurements
}

deny contains sprintf("HOST_DATA %s is not an allowed value (the policy hash the TEE was launched with)", [snp_claims.host_data]) if {
	snp
	is_array(refs.host_data)
	not snp_claims.host_data in refs.host_data
}

deny contains sprintf("reported TCB %s SPL %d is below the minimum %d", [name, snp_claims.reported_tcb[name], minimum]) if {
	snp
	some name, minimum in refs.min_tcb
	snp_claims.reported_tcb[name] < minimum
}

deny contains sprintf("the report has no %s SPL but the reference sets a minimum for it", [name]) if {
	snp
	some name, _ in refs.min_tcb
	object.get(snp_claims.reported_tcb, name, null) == null
}

deny contains sprintf("guest SVN %d is below the minimum %d", [snp_claims.guest_svn, refs.min_guest_svn]) if {
	snp
	snp_claims.guest_svn < refs.min_guest_svn
}

deny contains sprintf("VMPL %d is above the highest accepted %d", [snp_claims.vmpl, refs.max_vmpl]) if {
	snp
	snp_claims.vmpl > refs.max_vmpl
}

# --- Intel SGX -----------------------------------------------------------------------------------

deny contains "the enclave is debuggable: its memory can be read by the host" if {
	sgx
	input.claims.debug == true
	not refs.allow_debug == true
}

deny contains sprintf("MRENCLAVE %s is not an expected enclave", [input.claims.mrenclave]) if {
	sgx
	is_array(refs.mrenclave)
	not input.claims.mrenclave in refs.mrenclave
}

deny contains sprintf("MRSIGNER %s is not an expected signer", [input.claims.mrsigner]) if {
	sgx
	is_array(refs.mrsigner)
	not input.claims.mrsigner in refs.mrsigner
}

deny contains sprintf("ISVPRODID %d is not the expected %d", [input.claims.isvprodid, refs.isvprodid]) if {
	sgx
	input.claims.isvprodid != refs.isvprodid
}

deny contains sprintf("ISVSVN %d is below the minimum %d", [input.claims.isvsvn, refs.min_isvsvn]) if {
	sgx
	input.claims.isvsvn < refs.min_isvsvn
}

sgx_tcb_allowed := object.get(refs, "tcb_status", ["UpToDate"])

deny contains sprintf("platform TCB status %s is not accepted (accepted: %v)", [input.claims.tcb_status, sgx_tcb_allowed]) if {
	sgx
	not input.claims.tcb_status in sgx_tcb_allowed
}

deny contains "the platform TCB status is unknown" if {
	sgx
	object.get(input.claims, "tcb_status", null) == null
}

# --- Kinds without default rules -----------------------------------------------------------------

known_tees := {"snp", "sgx", "az-snp-vtpm", "tdx"}

deny contains sprintf("the default policy has no rules for TEE %v: appraise it with a policy of your own", [input.claims.tee]) if {
	not input.claims.tee in known_tees
}

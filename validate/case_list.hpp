// The case list of `aiaccel validate` (validate/cases.json: data, not code): which inputs each stage
// is validated on, which aiapy goldens apply, and which cases form the 'quick' set. Real files found
// in the discovery folders that the list does not name become cases of their own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace aiaccel::validate {

struct Case {
    std::string name;  // unique, e.g. "psf-171", "derived-1600x2-with-171psf-it5"
    std::string stage;  // a stage driver's name (stage_driver.hpp): psf, deconvolve, register, prep
    bool quick = false;  // in the quick set (every case is in full)
    std::string description;
    std::string golden;  // golden item, e.g. "psf:171", "deconvolve:5"; prep: the items' variant ("synoptic" → "exposure:synoptic")
    std::vector<std::string> goldens;  // aiapy versions the reference is compared with
    // psf
    int channel = 0;
    bool preflight = false;
    // deconvolve, register, prep
    std::string input;  // golden input key ("aia_171_level1", "derived"), or "" for synthetic cases
    std::filesystem::path file;  // discovered cases: the real file itself
    int iterations = 0;  // deconvolve
    int psf_channel = 0;  // deconvolve: the PSF's channel (the derived 1600 Å map uses 171 Å)
    std::vector<std::string> functions;  // prep: update_pointing, correct_degradation, exposure, degradation
    // synthetic cases (exact answers)
    std::string synthetic;  // "delta_psf", "constant", "identity"
    int size = 0;
    double value = 0;

    bool is_synthetic() const { return !synthetic.empty(); }
    bool is_discovered() const { return !file.empty(); }
};

struct CaseList {
    std::filesystem::path file;
    std::vector<Case> cases;
};

// Reads the list; `discover` folders ("$AIA_DATA_DIR" is replaced by data_dir, relative ones are
// under `root`) are scanned for *.fits files whose names the list's inputs do not use. Throws
// Error(unreadable / bad_value) naming the file and the problem.
CaseList load_case_list(const std::filesystem::path& file, const std::filesystem::path& root, const std::filesystem::path& data_dir);

// Cases named by the selectors, in list order: "quick", "full" (= every case) or case names.
// Throws Error(usage) for an unknown name, listing what exists.
std::vector<const Case*> select_cases(const CaseList& list, const std::vector<std::string>& selectors);

}  // namespace aiaccel::validate

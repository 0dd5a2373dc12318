// The input side of `aiaccel prep`: turning INPUTS (files, folders, glob patterns, @list.txt) into
// one sorted, de-duplicated list, splitting it into shards for cluster jobs, and reading just the
// header of a FITS file (no pixel decoding) to name outputs and check existing ones on --resume.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/fits_header.hpp"

namespace aiaccel::cli::prep {

// Files as given; folders: every *.fits / *.fits.gz / *.fts file below them (recursive); words with
// * ? [ : glob(3) patterns; @FILE: one input per line (blank lines and '#' comments skipped; relative
// paths are relative to the list's folder). The result is sorted (byte order) and de-duplicated by
// the path's lexically normal form, so every run over the same inputs sees the same list.
// Error(usage) for a missing file, an empty glob, an unreadable list.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args);

// --shard I/N (0 <= I < N): input k of the sorted list belongs to shard k mod N, so N jobs with
// I = 0..N-1 cover every input exactly once, and channels/times are spread evenly across them.
struct Shard {
    int index = 0, count = 1;
    bool owns(std::size_t k) const { return static_cast<int>(k % static_cast<std::size_t>(count)) == index; }
    std::string text() const;  // "I/N"
};
Shard parse_shard(const std::string& s);  // Error(usage) unless "I/N" with 0 <= I < N

// sha256 over the sorted list (one path per line): the identity of a batch, stored in every shard's
// manifest so merge-manifests can tell manifests of different batches apart.
std::string list_sha256(const std::vector<std::string>& inputs);

// The header cards of the image HDU (the primary HDU if it has data, else the first image or
// tile-compressed extension), read block by block without decoding pixels.
// Error(unreadable) for a truncated or non-FITS file, Error(unsupported) when there is no image.
FitsHeader read_image_header(const std::string& path);

// Identity of an output file's content: sha256 over every byte of the file except the CHECKSUM and
// DATASUM cards (CFITSIO stamps the time into their comments), and the DATASUM value. Two runs that
// write the same header and pixels give the same content_sha256.
struct OutputIdentity {
    std::string content_sha256;
    std::string datasum;
};
OutputIdentity output_identity(const std::string& path);

}  // namespace aiaccel::cli::prep

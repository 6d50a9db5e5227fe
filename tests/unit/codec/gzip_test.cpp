// Parallel gzip compressor / decompressor: round trips, interoperability
// with zlib and the real gzip/tar/python tools, and corrupt input.
#include <zlib.h>

#include "codec/gzip_member.hpp"
#include "codec_test_util.hpp"

namespace bakthat::codec::test {
namespace {

using gzip::kBlockSize;

CompressOptions gz(int threads, std::optional<int> level = std::nullopt) {
  return CompressOptions{Codec::Gzip, level, threads};
}

// Inflates every member with zlib (independent decoder).
Buffer zlib_gunzip(Bytes in) {
  Buffer out;
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  Buffer buf(1 << 16);
  for (;;) {
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    int r = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), buf.begin(), buf.end() - z.avail_out);
    if (r == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);
      continue;
    }
    if (r != Z_OK) {
      ADD_FAILURE() << "zlib inflate error " << r;
      break;
    }
  }
  inflateEnd(&z);
  return out;
}

// One gzip member made by zlib (no extra field): a "foreign" member.
Buffer zlib_gzip(Bytes in, int level = 6) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Buffer out(deflateBound(&z, static_cast<uLong>(in.size())) + 64);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Buffer concat(std::initializer_list<Bytes> parts) {
  Buffer out;
  for (Bytes p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(GzipCodec, RoundTripsEverySizeAndThreadCount) {
  const std::size_t sizes[] = {0, 1, 1000, kBlockSize - 1, kBlockSize, kBlockSize + 1,
                               3 * kBlockSize + 17, 6 * kBlockSize + 12345};
  for (int threads = 1; threads <= 4; ++threads) {
    for (std::size_t size : sizes) {
      SCOPED_TRACE("threads " + std::to_string(threads) + " size " + std::to_string(size));
      const Buffer in = mixed_data(size, static_cast<unsigned>(size + threads));
      const Buffer z = compress(in, gz(threads), 1 + size / 7);
      EXPECT_EQ(decompress(z, Codec::Gzip, threads), in);
      EXPECT_EQ(zlib_gunzip(z), in);
    }
  }
}

TEST(GzipCodec, ToleratesTinyReadsAndWrites) {
  const Buffer in = mixed_data(2 * kBlockSize + 3000, 17);
  const Buffer z = compress(in, gz(2), 4093);
  EXPECT_EQ(decompress(z, Codec::Gzip, 2, 7, 1), in);  // 7-byte input reads, 1-byte output reads
  const Buffer small = mixed_data(3000, 18);
  EXPECT_EQ(decompress(compress(small, gz(1), 1), Codec::Gzip, 1, 1, 5), small);
}

TEST(GzipCodec, RoundTripsEveryLevel) {
  const Buffer in = mixed_data(3 * kBlockSize + 999, 5);
  for (int level : {0, 1, 2, 3, 6, 9}) {
    SCOPED_TRACE("level " + std::to_string(level));
    const Buffer z = compress(in, gz(2, level));
    EXPECT_EQ(decompress(z, Codec::Gzip, 3), in);
    EXPECT_EQ(zlib_gunzip(z), in);
  }
}

TEST(GzipCodec, MembersCarryTheirSizeSubfield) {
  const Buffer in = mixed_data(5 * kBlockSize + 3, 9);
  const Buffer z = compress(in, gz(3));
  std::size_t pos = 0, members = 0;
  while (pos < z.size()) {
    auto size = gzip::tagged_member_size(Bytes(z).subspan(pos));
    ASSERT_TRUE(size) << "member " << members << " has no BT subfield";
    pos += *size;
    ++members;
  }
  EXPECT_EQ(pos, z.size());
  EXPECT_EQ(members, 6u);
}

TEST(GzipCodec, EmptyInputIsOneValidMember) {
  const Buffer z = compress({}, gz(1));
  ASSERT_FALSE(z.empty());
  EXPECT_TRUE(gzip::tagged_member_size(z));
  EXPECT_TRUE(decompress(z, Codec::Gzip).empty());
  EXPECT_TRUE(zlib_gunzip(z).empty());
}

TEST(GzipCodec, CompressesTextAndStoresRandomCheaply) {
  const Buffer text = mixed_data(kBlockSize, 3);  // starts with a long text run
  Buffer lines;
  for (int i = 0; lines.size() < 4 * kBlockSize; ++i) {
    std::string l = "2024-01-01 12:00:" + std::to_string(i % 60) + " INFO request served id=" + std::to_string(i) + "\n";
    lines.insert(lines.end(), l.begin(), l.end());
  }
  EXPECT_LT(compress(lines, gz(2)).size(), lines.size() / 5);
  const Buffer rnd = random_data(4 * kBlockSize);
  EXPECT_TRUE(gzip::looks_incompressible(Bytes(rnd).first(kBlockSize)));
  EXPECT_FALSE(gzip::looks_incompressible(Bytes(lines).first(kBlockSize)));
  const Buffer z = compress(rnd, gz(2));
  // Stored: 5 bytes per 64 KiB block plus 28 bytes of member framing.
  EXPECT_LE(z.size(), rnd.size() + 4 * (16 * 5 + 5 + 28));
  EXPECT_EQ(decompress(z, Codec::Gzip), rnd);
}

// An ISA-L level the library refuses must not turn into silently stored
// blocks: the compressor goes on with libdeflate.
TEST(GzipCodec, ARefusedIsalLevelStillCompresses) {
  Buffer lines;
  for (int i = 0; lines.size() < kBlockSize; ++i) {
    std::string l = "2024-01-01 12:00:" + std::to_string(i % 60) + " INFO request served id=" + std::to_string(i) + "\n";
    lines.insert(lines.end(), l.begin(), l.end());
  }
  for (int level : {3, 7}) {  // 7: above ISA-L's highest
    SCOPED_TRACE(level);
    gzip::MemberCompressor c({gzip::Engine::Isal, level});
    Buffer member;
    member.resize(c.compress(lines, member));
    EXPECT_LT(member.size(), lines.size() / 5);
    EXPECT_EQ(zlib_gunzip(member), lines);
  }
}

TEST(GzipCodec, RealGzipTarAndPythonAcceptTheOutput) {
  TempDir dir;
  // A real tar archive of a small tree, compressed by us.
  std::filesystem::create_directories(dir.file("tree/sub"));
  const Buffer a = mixed_data(2 * kBlockSize + 77, 11);
  write_file(dir.file("tree/sub/a.bin"), a);
  write_file(dir.file("tree/b.txt"), util_bytes("hello\n"));
  ASSERT_EQ(run("tar -cf " + dir.file("t.tar") + " -C " + dir.file("") + " tree"), 0);
  const Buffer tar = read_file(dir.file("t.tar"));
  write_file(dir.file("t.tgz"), compress(tar, gz(3)));

  EXPECT_EQ(run("gzip -t " + dir.file("t.tgz")), 0);
  EXPECT_EQ(run("gzip -dc " + dir.file("t.tgz") + " > " + dir.file("back.tar")), 0);
  EXPECT_EQ(read_file(dir.file("back.tar")), tar);
  EXPECT_EQ(run("tar -tzf " + dir.file("t.tgz") + " | grep -q '^tree/sub/a.bin$'"), 0);
  EXPECT_EQ(run("python3 -c \"import gzip,sys; d=gzip.open(sys.argv[1]).read(); "
                "sys.exit(0 if d==open(sys.argv[2],'rb').read() else 1)\" " +
                dir.file("t.tgz") + " " + dir.file("t.tar")),
            0);
}

TEST(GzipCodec, DecodesGnuGzipAndZlibOutput) {
  TempDir dir;
  const Buffer in = mixed_data(3 * kBlockSize + 5, 21);
  write_file(dir.file("in"), in);
  ASSERT_EQ(run("gzip -6 -c " + dir.file("in") + " > " + dir.file("in.gz")), 0);
  const Buffer gnu = read_file(dir.file("in.gz"));
  for (int threads : {1, 2}) {
    EXPECT_EQ(decompress(gnu, Codec::Gzip, threads), in);
    EXPECT_EQ(decompress(gnu, Codec::Gzip, threads, 1000, 333), in);  // short reads both ways
  }
  // pigz output: one member, with internal sync flushes.
  if (run("command -v pigz > /dev/null") == 0) {
    ASSERT_EQ(run("pigz -p 2 -c " + dir.file("in") + " > " + dir.file("in.pz")), 0);
    EXPECT_EQ(decompress(read_file(dir.file("in.pz")), Codec::Gzip), in);
  }
  EXPECT_EQ(decompress(zlib_gzip(in), Codec::Gzip), in);
}

TEST(GzipCodec, DecodesConcatenatedAndMixedMembers) {
  const Buffer a = mixed_data(kBlockSize + 100, 31), b = mixed_data(5000, 32), c = mixed_data(2 * kBlockSize, 33);
  Buffer expected = concat({a, b, c});
  // foreign + foreign
  EXPECT_EQ(decompress(concat({zlib_gzip(a), zlib_gzip(b), zlib_gzip(c, 1)}), Codec::Gzip, 2, 4096), expected);
  // ours, then foreign, then ours again (the reader stays in streaming mode)
  EXPECT_EQ(decompress(concat({compress(a, gz(2)), zlib_gzip(b), compress(c, gz(1))}), Codec::Gzip, 2), expected);
  // an empty foreign member in the middle
  EXPECT_EQ(decompress(concat({zlib_gzip(a), zlib_gzip({}), zlib_gzip(b)}), Codec::Gzip), concat({a, b}));
  // trailing zero padding is tolerated, like GNU gzip does
  Buffer padded = compress(a, gz(2));
  padded.resize(padded.size() + 1000, 0);
  EXPECT_EQ(decompress(padded, Codec::Gzip), a);
}

TEST(GzipCodec, CorruptInputThrowsCorrupt) {
  const Buffer in = mixed_data(3 * kBlockSize + 1, 41);
  const Buffer ours = compress(in, gz(2));
  const Buffer foreign = zlib_gzip(in);
  for (const Buffer* z : {&ours, &foreign}) {
    SCOPED_TRACE(z == &ours ? "ours" : "foreign");
    // Bad CRC of the last member.
    Buffer bad_crc = *z;
    bad_crc[bad_crc.size() - 6] ^= 0x55;
    expect_corrupt([&] { decompress(bad_crc, Codec::Gzip); });
    // Damaged deflate data in the middle.
    Buffer bad_data = *z;
    for (std::size_t i = 0; i < 64; ++i) bad_data[bad_data.size() / 2 + i] ^= 0xa5;
    expect_corrupt([&] { decompress(bad_data, Codec::Gzip); });
    // Truncated at several places, including inside a header and a trailer.
    for (std::size_t cut : {std::size_t{5}, std::size_t{15}, z->size() / 3, z->size() - 4, z->size() - 1}) {
      SCOPED_TRACE("cut at " + std::to_string(cut));
      expect_corrupt([&] { decompress(Bytes(*z).first(cut), Codec::Gzip); });
    }
    // Garbage after the last member.
    expect_corrupt([&] { decompress(concat({*z, util_bytes("garbage")}), Codec::Gzip); });
  }
  expect_corrupt([&] { decompress(util_bytes("this is not gzip at all"), Codec::Gzip); });
  expect_corrupt([&] { decompress({}, Codec::Gzip); });
}

TEST(GzipCodec, HostileSizeFieldIsNotTrusted) {
  // A BT subfield claiming a huge member falls back to the streaming decoder
  // instead of allocating; then the data is judged on its own.
  Buffer z = compress(mixed_data(5000, 51), gz(1));
  z[16] = z[17] = z[18] = 0xff;
  z[19] = 0x7f;
  EXPECT_FALSE(gzip::tagged_member_size(z));
  EXPECT_EQ(decompress(z, Codec::Gzip), mixed_data(5000, 51));
}

TEST(GzipCodec, HostileUncompressedSizeIsNotAllocated) {
  // One member of random data (~1 MiB, stored): deflate's 1032:1 bound
  // would let its trailer claim up to ~1 GiB, which the reader would
  // allocate before finding the lie. It is refused before that.
  Buffer z = compress(random_data(gzip::kBlockSize, 53), gz(1));
  ASSERT_TRUE(gzip::tagged_member_size(z));
  const std::uint32_t claim = 900u << 20;
  for (int i = 0; i < 4; ++i) z[z.size() - 4 + i] = static_cast<std::uint8_t>(claim >> (8 * i));
  try {
    decompress(z, Codec::Gzip);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find("impossible uncompressed size"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bakthat::codec::test

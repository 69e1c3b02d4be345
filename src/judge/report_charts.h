// The building blocks of a report page: sections of tiles (one number each), tables and charts.
// A chart is a Vega-Lite spec with its data inline, plus the number of marks it must draw (the
// browser tests compare them with the page's SVG).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "judge/report_stats.h"

namespace fare::judge {

struct Chart {
  std::string id;  // unique in the page
  std::string title;
  std::string caption;  // what to read off it
  nlohmann::ordered_json spec;
  std::map<std::string, int> marks;  // SVG mark items expected per Vega mark type ("rect", "rule", ...)
};

struct Tile {
  std::string label;
  std::string value;
  std::string note;  // e.g. the 95 % interval, or "of 700 judgments"
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Section {
  std::string id;
  std::string title;
  std::string note;
  std::vector<Tile> tiles;
  std::vector<Chart> charts;
  std::vector<Table> tables;
};

// "55.71%" for rates, "7.125" for values, as the metrics table prints them.
std::string format_rate(double v);
std::string format_value(double v);
std::string format_interval(const std::optional<Interval>& iv, bool rate);  // "95% CI 50.1% to 61.4%"

struct BarRow {
  std::string label;
  double value = 0;
  std::optional<Interval> ci;
  std::string series;  // grouped bars: the colour; empty for a single series
  std::string note;    // shown on hover, e.g. "n = 120"
};

// Horizontal bars with their 95 % intervals; rates on a 0-100 % axis. With series, bars of one
// label sit side by side.
Chart interval_bars(std::string id, std::string title, std::string caption, const std::vector<BarRow>& rows,
                    const std::string& value_title, bool rate);

// Horizontal count bars labelled with their counts; `colors` (optional) maps labels to colours.
Chart count_bars(std::string id, std::string title, std::string caption,
                 const std::vector<std::pair<std::string, double>>& counts, const std::string& value_title,
                 const std::map<std::string, std::string>& colors = {});

struct Cell {
  std::string x, y;
  double count = 0;
};
// Counts on a grid: every category of x_order and y_order on the axes, a rect and a number per
// non-empty cell.
Chart heat_map(std::string id, std::string title, std::string caption, const std::vector<Cell>& cells,
               const std::vector<std::string>& x_order, const std::vector<std::string>& y_order,
               const std::string& x_title, const std::string& y_title);

struct Bin {
  double start = 0, end = 0, count = 0;
  std::string series;
};
// Stacked histogram of pre-computed bins (only non-empty ones are drawn); `colors` maps series
// to colours, in the legend's order.
Chart histogram(std::string id, std::string title, std::string caption, const std::vector<Bin>& bins,
                const std::string& x_title, const std::string& series_title,
                const std::vector<std::pair<std::string, std::string>>& colors);

struct CalibrationBin {
  double confidence = 0;  // mean stated confidence in the bin
  double accuracy = 0;
  int n = 0;
};
// Reliability diagram: accuracy against confidence per bin, sized by count, and the diagonal.
Chart reliability(std::string id, std::string title, std::string caption, const std::vector<CalibrationBin>& bins);

struct Point {
  double x = 0, y = 0, count = 0;
};
// Scatter of (x, y) pairs sized by how many items share them.
Chart count_scatter(std::string id, std::string title, std::string caption, const std::vector<Point>& points,
                    const std::string& x_title, const std::string& y_title);

// Differences (b - a) with intervals, around a line at zero; rates on a percent axis.
Chart difference_dots(std::string id, std::string title, std::string caption, const std::vector<BarRow>& rows,
                      const std::string& value_title, bool rate);

nlohmann::ordered_json chart_to_json(const Chart& c);

}  // namespace fare::judge
